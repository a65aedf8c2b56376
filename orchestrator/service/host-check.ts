/**
 * The Host allowlist: a request must name the head by a loopback name and the head's port
 * (`127.0.0.1`, `localhost`, `[::1]`), or by the address it is bound to. A page that rebinds its
 * own DNS name to 127.0.0.1 (DNS rebinding) reaches the head's port with its own name in the
 * Host header, and is refused before anything is served.
 */
import type { IncomingMessage } from 'node:http';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** The `Host` values a head bound to `host:port` answers: the loopback names with its port, plus its own address. */
export function allowedHosts(host: string, port: number): ReadonlySet<string> {
  const names = new Set([...LOOPBACK, host.toLowerCase()]);
  return new Set([...names].map((n) => `${n.includes(':') ? `[${n}]` : n}:${port}`));
}

/** True when the request's Host header is one of `allowed` (compared without case). */
export function hostAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const host = req.headers.host;
  return host !== undefined && allowed.has(host.toLowerCase());
}

/** The body of the refusal (421 Misdirected Request). */
export function hostRefusal(req: IncomingMessage): string {
  return `this Orrery head does not serve the host ${JSON.stringify(req.headers.host ?? '')}: open it at http://127.0.0.1:<port>/ (a page reaching it under another name is refused)`;
}
