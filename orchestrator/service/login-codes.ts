/**
 * One-time login codes: how a browser gets into the dashboard without the head's token in a
 * URL, a command line or a browser's history. Whoever holds the token (the CLI, the Electron
 * main process) asks for a code; the browser opens `/login?code=<code>` and the head trades the
 * code for a browser session (browser-sessions.ts). A code is random (32 bytes), works once,
 * and expires {@link LOGIN_CODE_TTL_MS} after it was issued. Only its hash is kept.
 */
import { createHash, randomBytes } from 'node:crypto';

/** How long a code stays good: long enough for a cold browser to start, short enough to be useless once seen. */
export const LOGIN_CODE_TTL_MS = 120_000;
/** Codes outstanding at once; issuing one more drops the oldest. */
const MAX_OUTSTANDING = 64;

/** A code just issued. */
export interface IssuedCode {
  readonly code: string;
  /** Milliseconds since the epoch after which the code is refused. */
  readonly expiresAt: number;
}

/** The one-time codes of one head. */
export class LoginCodes {
  /** Hash of each outstanding code -> its expiry and what to do once it was used. */
  private readonly codes = new Map<string, { expiresAt: number; onRedeemed?: () => void }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = LOGIN_CODE_TTL_MS,
  ) {}

  /** A fresh code; `onRedeemed` runs when a browser used it. */
  issue(onRedeemed?: () => void): IssuedCode {
    this.sweep();
    while (this.codes.size >= MAX_OUTSTANDING) this.codes.delete(this.codes.keys().next().value!);
    const code = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + this.ttlMs;
    this.codes.set(hash(code), { expiresAt, onRedeemed });
    return { code, expiresAt };
  }

  /** True, once, for a code that was issued and has not expired; false for anything else. */
  redeem(code: string): boolean {
    this.sweep();
    const key = hash(code);
    const entry = this.codes.get(key);
    if (!entry) return false;
    this.codes.delete(key);
    entry.onRedeemed?.();
    return true;
  }

  /** Codes still good now. */
  get outstanding(): number {
    this.sweep();
    return this.codes.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.codes) if (entry.expiresAt <= now) this.codes.delete(key);
  }
}

function hash(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}
