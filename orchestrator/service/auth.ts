/**
 * The head service's token and origins: the token is shown as a bearer header or, by a
 * WebSocket client, as a subprotocol, never in a URL (head-access.ts applies the rules). The
 * token never goes into a log line or an error message.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Prefix of the subprotocol that carries the token (`orrery.token.<token>`), for browsers that cannot set headers. */
export const WS_TOKEN_PROTOCOL_PREFIX = 'orrery.token.';

/** A fresh random token: 32 bytes, hex. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** Compares tokens in constant time (hashing first makes the lengths equal). */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token a request presents, or undefined: `Authorization: Bearer`, or the token subprotocol. */
export function presentedToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols) {
    for (const p of protocols.split(',')) {
      const t = p.trim();
      if (t.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) return t.slice(WS_TOKEN_PROTOCOL_PREFIX.length);
    }
  }
  return undefined;
}

/** The origins of a head listening on `host:port`: its own http origin, and localhost's for a loopback head. */
export function ownOrigins(host: string, port: number): Set<string> {
  const origins = new Set([`http://${host.includes(':') ? `[${host}]` : host}:${port}`]);
  if (host === '127.0.0.1' || host === '::1' || host === 'localhost') {
    origins.add(`http://127.0.0.1:${port}`);
    origins.add(`http://localhost:${port}`);
    origins.add(`http://[::1]:${port}`);
  }
  return origins;
}
