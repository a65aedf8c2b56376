/**
 * Talks to the head: JSON over HTTP with the bearer token, and the live event socket. The
 * token comes from Electron's preload (`window.orrery`) or from the page URL's `?token=`.
 */
import type { ApiErrorBody, BatchEvent, SnapshotEvent } from './api-types.ts';

/** What Electron's preload exposes; absent in a plain browser. */
interface PreloadBridge {
  readonly headUrl: string;
  readonly token: string;
}

declare global {
  interface Window {
    orrery?: PreloadBridge;
  }
}

/** A non-2xx reply from the head, with its parsed body (field errors on a 400). */
export class HeadRequestError extends Error {
  override readonly name = 'HeadRequestError';
  constructor(readonly status: number, readonly body: ApiErrorBody) {
    super(`${body.error} (HTTP ${status})`);
  }
}

/** The head's address and token for this page. */
export function headEndpoint(): { base: string; token: string } {
  const bridge = window.orrery;
  if (bridge) return { base: bridge.headUrl.replace(/\/$/, ''), token: bridge.token };
  return { base: '', token: new URLSearchParams(location.search).get('token') ?? '' };
}

/** Calls `/api/<path>`; resolves with the parsed JSON (undefined for 204), rejects with HeadRequestError. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const { base, token } = headEndpoint();
  const res = await fetch(`${base}/api/${path}`, {
    method: init.method ?? 'GET',
    headers: { Authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  const parsed: unknown = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
  if (!res.ok) {
    const body = typeof parsed === 'object' && parsed !== null ? (parsed as ApiErrorBody) : { error: String(parsed || res.statusText) };
    throw new HeadRequestError(res.status, body);
  }
  return parsed as T;
}

/** A URL with the token in its query, for downloads the browser fetches itself. */
export function downloadUrl(path: string): string {
  const { base, token } = headEndpoint();
  return `${base}/api/${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

/** Handlers of the event stream. */
export interface EventHandlers {
  snapshot(e: SnapshotEvent): void;
  batch(e: BatchEvent): void;
  status(text: string): void;
}

/** Opens /api/events and reopens it after a drop (each reopen starts with a fresh snapshot). */
export function connectEvents(h: EventHandlers): () => void {
  const { base, token } = headEndpoint();
  const origin = base ? new URL(base) : location;
  const url = `${origin.protocol === 'https:' ? 'wss' : 'ws'}://${origin.host}/api/events`;
  let ws: WebSocket | undefined;
  let closed = false;
  let retry: number | undefined;
  const open = () => {
    ws = new WebSocket(url, ['orrery', `orrery.token.${token}`]);
    ws.onopen = () => h.status('live');
    ws.onmessage = (m) => {
      const e = JSON.parse(String(m.data)) as SnapshotEvent | BatchEvent;
      if (e.type === 'snapshot') h.snapshot(e);
      else if (e.type === 'batch') h.batch(e);
    };
    ws.onclose = () => {
      if (closed) return;
      h.status('disconnected; retrying');
      retry = window.setTimeout(open, 1000);
    };
  };
  open();
  return () => {
    closed = true;
    if (retry) clearTimeout(retry);
    ws?.close();
  };
}
