/**
 * Who may use a head service's API and sockets, decided in one place for HTTP requests and
 * WebSocket upgrades alike:
 *
 * - a credential: the head's token as `Authorization: Bearer` (or, for a WebSocket, the
 *   `orrery.token.<token>` subprotocol), or a browser session cookie (browser-sessions.ts).
 *   A token in the URL (`?token=`) is refused outright: URLs end up in process lists,
 *   histories, logs and Referer headers.
 * - from no Origin or the head's own;
 * - a request on a browser session that changes something (any method but GET and HEAD) or
 *   opens a socket must carry the page's Origin, and a browser's `Sec-Fetch-Site` must not
 *   say another site sent it: the cookie alone is not proof the dashboard asked (CSRF).
 *
 * Before all of this, {@link HeadAccess.hostAllowed} checks the Host header (host-check.ts).
 */
import type { IncomingMessage } from 'node:http';
import { presentedToken, tokensEqual } from './auth.ts';
import type { BrowserSessions } from './browser-sessions.ts';
import { hostAllowed } from './host-check.ts';

/** How a request proved who it is. */
export type Credential = 'token' | 'cookie';

/** The verdict on a request: its credential, or the refusal to send. */
export type AccessVerdict =
  | { readonly ok: true; readonly via: Credential }
  | { readonly ok: false; readonly status: 401 | 403; readonly error: string };

const HOW_TO_LOG_IN =
  'send Authorization: Bearer <token> (the token is in head.json), or open a one-time login link from `orrery dashboard --url`';

/** The access rules of one head service. */
export class HeadAccess {
  constructor(
    private readonly token: string,
    /** The dashboard's browser sessions. */
    readonly sessions: BrowserSessions,
    /** The head's own origins (auth.ts ownOrigins). */
    private readonly origins: ReadonlySet<string>,
    /** The Host values it answers (host-check.ts allowedHosts). */
    private readonly hosts: ReadonlySet<string>,
  ) {}

  /** True when the request names this head in its Host header; anything else is refused before it is served. */
  hostAllowed(req: IncomingMessage): boolean {
    return hostAllowed(req, this.hosts);
  }

  /** Checks a request (or, with `upgrade`, a WebSocket handshake) to `url`. */
  check(req: IncomingMessage, url: URL, upgrade = false): AccessVerdict {
    if (url.searchParams.has('token')) {
      return refuse(
        401,
        `a token in the URL is refused (URLs leak into process lists, histories and logs): ${HOW_TO_LOG_IN}`,
      );
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.origins.has(origin))
      return refuse(403, 'requests from other web origins are refused');
    const given = presentedToken(req);
    if (given !== undefined)
      return tokensEqual(given, this.token)
        ? { ok: true, via: 'token' }
        : refuse(401, `missing or wrong token: ${HOW_TO_LOG_IN}`);
    if (!this.sessions.presentedBy(req)) {
      if (this.sessions.attemptedBy(req))
        return refuse(
          401,
          'this browser session has ended (the head restarted, or it logged in too long ago): open a new login link from `orrery dashboard --url`',
        );
      return refuse(401, `missing or wrong token: ${HOW_TO_LOG_IN}`);
    }
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none')
      return refuse(403, `a browser session is honoured only for the dashboard's own pages (Sec-Fetch-Site: ${site})`);
    const changes = upgrade || (req.method !== 'GET' && req.method !== 'HEAD');
    if (changes && origin === undefined)
      return refuse(
        403,
        'a request on a browser session that changes something or opens a socket must carry the Origin header of the dashboard page',
      );
    return { ok: true, via: 'cookie' };
  }
}

function refuse(status: 401 | 403, error: string): AccessVerdict {
  return { ok: false, status, error };
}
