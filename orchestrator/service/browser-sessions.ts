/**
 * Browser sessions of the dashboard: what a one-time login code (login-codes.ts) is traded for.
 * The browser holds a random secret in an HttpOnly, SameSite=Strict cookie, never the head's
 * token; the head keeps only the secrets' hashes, in memory (a restarted head asks for a new
 * login). The cookie is named after the head's port: cookies ignore ports, so two heads on one
 * machine would otherwise overwrite each other's.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Sessions kept at once; a login beyond that ends the oldest one. */
const MAX_SESSIONS = 256;

/** The browser sessions of one head. */
export class BrowserSessions {
  /** The cookie's name: `orrery-session-<port>`. */
  readonly cookieName: string;
  private readonly secrets = new Set<string>();

  constructor(port: number) {
    this.cookieName = `orrery-session-${port}`;
  }

  /** Starts a session; returns the `Set-Cookie` header that hands its secret to the browser. */
  create(): string {
    while (this.secrets.size >= MAX_SESSIONS) this.secrets.delete(this.secrets.values().next().value!);
    const secret = randomBytes(32).toString('base64url');
    this.secrets.add(hash(secret));
    return `${this.cookieName}=${secret}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /** True when the request's cookie names a live session of this head. */
  presentedBy(req: IncomingMessage): boolean {
    const secret = cookieValue(req.headers.cookie, this.cookieName);
    return secret !== undefined && this.secrets.has(hash(secret));
  }

  /** True when the request carries this head's cookie at all (valid or not). */
  attemptedBy(req: IncomingMessage): boolean {
    return cookieValue(req.headers.cookie, this.cookieName) !== undefined;
  }
}

/** The value of cookie `name` in a `Cookie` header, or undefined. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function hash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
