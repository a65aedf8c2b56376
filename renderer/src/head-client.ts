/**
 * Talks to the head that served this page: JSON over HTTP and the live event socket, both
 * same-origin, authenticated by the session cookie the one-time login link set (the page never
 * holds the head's token). Electron loads the same page from the head, logged in the same way.
 */
import type { ApiErrorBody, BatchEvent, SnapshotEvent, TaskView } from './api-types.ts';

/** A non-2xx reply from the head, with its parsed body (field errors on a 400). */
export class HeadRequestError extends Error {
  override readonly name = 'HeadRequestError';
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    // The message is the head's sentence alone: the status is in `status`, not for the reader.
    super(body.error);
  }
}

/** Calls `/api/<path>`; resolves with the parsed JSON (undefined for 204), rejects with HeadRequestError. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`/api/${path}`, {
    method: init.method ?? 'GET',
    credentials: 'same-origin',
    headers: init.body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  const parsed: unknown = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
  if (!res.ok) {
    const body =
      typeof parsed === 'object' && parsed !== null
        ? (parsed as ApiErrorBody)
        : { error: String(parsed || res.statusText) };
    throw new HeadRequestError(res.status, body);
  }
  return parsed as T;
}

/** The URL of a download the browser fetches itself (the session cookie goes with it). */
export function downloadUrl(path: string): string {
  return `/api/${path}`;
}
/** Handlers of the event stream. */
export interface EventHandlers {
  snapshot(e: SnapshotEvent): void;
  batch(e: BatchEvent): void;
  status(text: string): void;
  /** The head refused this browser (no session cookie, or one from before the head restarted). */
  signedOut(): void;
}

/** The live event stream: `retry()` looks again now (after a login elsewhere); `close()` ends it. */
export interface EventsConnection {
  retry(): void;
  close(): void;
}

/** Tabs of this browser tell each other when one goes live: a login in one tab sets the cookie for all. */
const LOGIN_CHANNEL = 'orrery-login';

const NO_DEPS: readonly string[] = Object.freeze([]);

/**
 * Makes the feed's tasks whole TaskViews (dashboard-events.ts FeedTask): `jobId` from its index
 * `j` into the message's `jobIds`, and the values the head leaves out when they are the commonest.
 */
function wholeTasks(e: SnapshotEvent | BatchEvent): void {
  const ids = e.jobIds ?? [];
  for (const t of e.tasks as ({ -readonly [K in keyof TaskView]: TaskView[K] } & { j?: number })[]) {
    if (t.j !== undefined) t.jobId = ids[t.j];
    t.kind ??= 'function';
    t.attempt ??= 0;
    t.deps ??= NO_DEPS;
  }
}

/**
 * Opens /api/events and reopens it after a drop (each reopen starts with a fresh snapshot).
 * A refused login (401) is not retried on a timer, since no retry can succeed without a login:
 * it looks again when another tab of this browser goes live, when this tab comes back into
 * view, or on `retry()`.
 */
export function connectEvents(h: EventHandlers): EventsConnection {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/events`;
  let ws: WebSocket | undefined;
  let closed = false;
  let signedOut = false;
  let retry: number | undefined;
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(LOGIN_CHANNEL) : undefined;
  const open = () => {
    if (retry) clearTimeout(retry);
    retry = undefined;
    ws = new WebSocket(url, ['orrery']);
    ws.onopen = () => {
      signedOut = false;
      h.status('live');
      channel?.postMessage('live');
    };
    ws.onmessage = (m) => {
      const e = JSON.parse(String(m.data)) as SnapshotEvent | BatchEvent;
      wholeTasks(e);
      if (e.type === 'snapshot') h.snapshot(e);
      else if (e.type === 'batch') h.batch(e);
    };
    ws.onclose = () => {
      if (closed) return;
      if (!signedOut) h.status('disconnected; checking');
      // A WebSocket close does not say why; a refused session shows on a plain request.
      void fetch('/api/status', { credentials: 'same-origin' })
        .then(
          (res) => res.status,
          () => 0,
        )
        .then((status) => {
          if (closed) return;
          if (status === 401) {
            signedOut = true;
            h.signedOut();
            return;
          }
          h.status('disconnected; retrying');
          retry = window.setTimeout(open, 1000);
        });
    };
  };
  const lookAgain = () => {
    if (!closed && signedOut && ws?.readyState === WebSocket.CLOSED) open();
  };
  channel?.addEventListener('message', lookAgain);
  const onVisible = () => {
    if (document.visibilityState === 'visible') lookAgain();
  };
  document.addEventListener('visibilitychange', onVisible);
  open();
  return {
    retry: lookAgain,
    close: () => {
      closed = true;
      if (retry) clearTimeout(retry);
      channel?.close();
      document.removeEventListener('visibilitychange', onVisible);
      ws?.close();
    },
  };
}
