/**
 * Login pages, as Jupyter does it: to open the dashboard, `orrery dashboard` hands the browser
 * the path of a small HTML file that forwards to a one-time login URL, so the command line of
 * the browser (which any local user can read with `ps`) holds only a path other users cannot
 * open. The file is created exclusively, mode 0600, in a 0700 folder of this user's, and is
 * removed as soon as its code was used or expired, and when the head stops.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { dataRoot, ensurePrivateDir } from '../core/runtime-dir.ts';
import type { LoginCodes } from './login-codes.ts';

/** The folder login pages are written to. */
export function loginPageDir(): string {
  return join(dataRoot(), 'login');
}

/** A login page just written. */
export interface LoginPage {
  /** Absolute path of the HTML file. */
  readonly path: string;
  /** When its code expires (ms since the epoch); the file is gone by then. */
  readonly expiresAt: number;
}

/** Writes and removes the login pages of one head. */
export class LoginPages {
  private readonly written = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly codes: LoginCodes,
    private readonly loginUrl: (code: string) => string,
    private readonly dir: () => string = loginPageDir,
  ) {}

  /** Writes a page forwarding to a fresh one-time login URL. */
  write(): LoginPage {
    const dir = ensurePrivateDir(this.dir());
    const path = join(dir, `login-${randomBytes(12).toString('hex')}.html`);
    const { code, expiresAt } = this.codes.issue(() => this.remove(path));
    // 'wx': created here and now, never an existing file or a planted link.
    writeFileSync(path, redirectHtml(this.loginUrl(code)), { mode: 0o600, flag: 'wx' });
    const timer = setTimeout(() => this.remove(path), Math.max(0, expiresAt - Date.now()));
    timer.unref();
    this.written.set(path, timer);
    return { path, expiresAt };
  }

  /** Removes every page still there. */
  close(): void {
    for (const path of [...this.written.keys()]) this.remove(path);
  }

  private remove(path: string): void {
    const timer = this.written.get(path);
    if (timer) clearTimeout(timer);
    this.written.delete(path);
    rmSync(path, { force: true });
  }
}

/**
 * Writes a page forwarding to `url`, a one-time login URL of a head this process does not run
 * (one started with `orrery start --on`, reached through a tunnel): created exclusively, 0600,
 * in the private login folder. Nothing here removes it later; its code works once and expires
 * within minutes, after which the page forwards to a refusal.
 */
export function writeForwardingPage(url: string): string {
  const path = join(ensurePrivateDir(loginPageDir()), `login-${randomBytes(12).toString('hex')}.html`);
  writeFileSync(path, redirectHtml(url), { mode: 0o600, flag: 'wx' });
  return path;
}

/** A page that forwards at once, without sending a Referer, and links there for browsers that do not follow meta refresh. */
function redirectHtml(url: string): string {
  const href = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url=${href}">
<title>Opening the Orrery dashboard</title></head>
<body><p>Opening the <a href="${href}">Orrery dashboard</a>…</p></body></html>
`;
}
