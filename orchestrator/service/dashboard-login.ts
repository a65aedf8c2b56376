/**
 * Logging a browser into the dashboard. Whoever holds the head's token gets one-time login
 * URLs (`POST /api/login-codes`) or login pages (`POST /api/login-pages`, the file
 * `orrery dashboard` opens); a browser opening `GET /login?code=<code>` gets a session cookie
 * and is sent on to `/`, so the code leaves the address bar at once and works no second time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BrowserSessions } from './browser-sessions.ts';
import type { LoginCodes } from './login-codes.ts';
import { loginPageDir, LoginPages, type LoginPage } from './login-pages.ts';

/** Path a browser logs in at. */
export const LOGIN_PATH = '/login';

/** A one-time login URL. */
export interface LoginUrl {
  readonly url: string;
  /** When it stops working (ms since the epoch). */
  readonly expiresAt: number;
}

/** The login side of one head service. */
export class DashboardLogin {
  private readonly pages: LoginPages;

  constructor(
    private readonly codes: LoginCodes,
    private readonly sessions: BrowserSessions,
    /** The head's HTTP base URL, `http://127.0.0.1:PORT`. */
    private readonly baseUrl: string,
    /** Where login pages are written. */
    pageDir: () => string = loginPageDir,
  ) {
    this.pages = new LoginPages(codes, (code) => this.urlFor(code), pageDir);
  }

  /** The login URL that redeems `code`. */
  urlFor(code: string): string {
    return `${this.baseUrl}${LOGIN_PATH}?code=${encodeURIComponent(code)}`;
  }

  /** A fresh one-time login URL. */
  newUrl(): LoginUrl {
    const { code, expiresAt } = this.codes.issue();
    return { url: this.urlFor(code), expiresAt };
  }

  /** A fresh login page (an HTML file only this user can read) forwarding to a one-time login URL. */
  newPage(): LoginPage {
    return this.pages.write();
  }

  /** Removes the login pages still on disk. */
  close(): void {
    this.pages.close();
  }

  /** Serves `GET /login?code=`: a good code sets the session cookie and redirects to `/`; anything else is refused. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const headers = { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' };
    if (req.method !== 'GET') {
      res.writeHead(405, { ...headers, Allow: 'GET', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`${LOGIN_PATH} takes GET\n`);
      return;
    }
    const code = url.searchParams.get('code');
    if (code === null || !this.codes.redeem(code)) {
      res.writeHead(401, {
        ...headers,
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': "default-src 'none'",
        'X-Frame-Options': 'DENY',
      });
      res.end(REFUSED_PAGE);
      return;
    }
    res.writeHead(303, { ...headers, Location: '/', 'Set-Cookie': this.sessions.create() });
    res.end();
  }
}

const REFUSED_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Orrery: login link refused</title></head>
<body><h1>This login link does not work</h1>
<p>A dashboard login link works once, for two minutes. Get a new one with <code>orrery dashboard --url</code>
(or open the dashboard with <code>orrery dashboard</code>).</p></body></html>
`;
