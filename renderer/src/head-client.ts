/**
 * Talks to the head that served this page: JSON over HTTP and the live event socket, both
 * same-origin, authenticated by the session cookie the one-time login link set (the page never
 * holds the head's token). Electron loads the same page from the head, logged in the same way.
 */
import type { ApiErrorBody, BatchEvent, SnapshotEvent } from './api-types.ts';

/** A non-2xx reply from the head, with its parsed body (field errors on a 400). */
export class HeadRequestError extends Error {
  override readonly name = 'HeadRequestError';
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(`${body.error} (HTTP ${status})`);
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

/** How often a browser that is not logged in looks again (a login in another tab sets the cookie). */
const SIGNED_OUT_RETRY_MS = 5000;

/** Opens /api/events and reopens it after a drop (each reopen starts with a fresh snapshot). */
export function connectEvents(h: EventHandlers): () => void {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/events`;
  let ws: WebSocket | undefined;
  let closed = false;
  let retry: number | undefined;
  const open = () => {
    ws = new WebSocket(url, ['orrery']);
    ws.onopen = () => h.status('live');
    ws.onmessage = (m) => {
      const e = JSON.parse(String(m.data)) as SnapshotEvent | BatchEvent;
      if (e.type === 'snapshot') h.snapshot(e);
      else if (e.type === 'batch') h.batch(e);
    };
    ws.onclose = () => {
      if (closed) return;
      h.status('disconnected; retrying');
      // A WebSocket close does not say why; a refused session shows on a plain request.
      void fetch('/api/status', { credentials: 'same-origin' })
        .then(
          (res) => {
            if (res.status === 401) h.signedOut();
            return res.status === 401 ? SIGNED_OUT_RETRY_MS : 1000;
          },
          () => 1000,
        )
        .then((ms) => {
          if (!closed) retry = window.setTimeout(open, ms);
        });
    };
  };
  open();
  return () => {
    closed = true;
    if (retry) clearTimeout(retry);
    ws?.close();
  };
}
