/**
 * The dashboard developer's server (`npm run dev:dashboard`, dev-server.ts): on its own loopback
 * port it serves the page and assets of a watch build from memory's folder, a reload script and
 * its event stream, and passes everything else (the API, the login, the events WebSocket) to a
 * real head. Auth stays the head's: the login is the head's one-time link, the session cookie
 * is the head's, and the head still checks every request. The proxy only lets through what comes
 * from its own page: a request naming another Host is refused (DNS rebinding), one from another
 * Origin is refused, and its own Origin is rewritten to the head's so the head's CSRF check
 * (head-access.ts) sees the page it trusts.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

/** Where the reload script and its event stream live (never a path of the head). */
export const DEV_PREFIX = '/__orrery-dev/';

/** The script each served page loads: it reloads the page when a rebuild finishes. */
const RELOAD_SCRIPT = `new EventSource('${DEV_PREFIX}events').addEventListener('change', () => location.reload());\n`;

const TYPES = new Map([
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.map', 'application/json; charset=utf-8'],
]);

/** A request's headers as the head should see them, or why it is not passed on. */
type Forwarding =
  | { readonly ok: true; readonly headers: Record<string, string | string[]> }
  | { readonly ok: false; readonly status: 403 | 421; readonly message: string };

/** A running dev proxy. */
export interface DevProxy {
  readonly server: Server;
  /** Its origin (`http://127.0.0.1:<port>`). */
  readonly origin: string;
  /** Tells every open page to reload. */
  reload(): void;
}

/** The proxy's options. */
export interface DevProxyOptions {
  /** The head's URL (`http://127.0.0.1:8265`). */
  readonly head: string;
  /** The build folder (index.html, assets/). */
  readonly out: string;
  /** Port to listen on (0: a free one). */
  readonly port: number;
}

/** Starts the proxy on 127.0.0.1. */
export async function startDevProxy(options: DevProxyOptions): Promise<DevProxy> {
  const head = new URL(options.head);
  const pages = new Set<ServerResponse>();
  let origin = '';
  const ownHosts = () => {
    const port = new URL(origin).port;
    return new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  };

  /** Refuses a request that is not from this proxy's own page; rewrites Host and Origin for the head. */
  const headHeaders = (req: IncomingMessage): Forwarding => {
    if (!ownHosts().has((req.headers.host ?? '').toLowerCase()))
      return {
        ok: false,
        status: 421,
        message: `this dev server answers only ${origin} (got Host ${JSON.stringify(req.headers.host ?? '')})`,
      };
    if (req.headers.origin !== undefined && req.headers.origin !== origin)
      return {
        ok: false,
        status: 403,
        message: `requests from other web origins are refused (got Origin ${req.headers.origin})`,
      };
    // Header names come from the client: no prototype for them to reach.
    const headers: Record<string, string | string[]> = Object.create(null);
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = value;
    headers.host = head.host;
    if (req.headers.origin !== undefined) headers.origin = head.origin;
    delete headers.referer;
    return { ok: true, headers };
  };

  const serveIndex = (req: IncomingMessage, res: ServerResponse, headers: Record<string, string | string[]>) => {
    // The head's own headers for its page (CSP, framing, referrer, caching), the dev build's body.
    const upstream = request({ host: head.hostname, port: head.port, path: '/', method: 'GET', headers }, (up) => {
      up.resume();
      const html = readFileSync(join(options.out, 'index.html'), 'utf8').replace(
        '</head>',
        `<script type="module" src="${DEV_PREFIX}reload.js"></script>\n</head>`,
      );
      const keep = Object.fromEntries(
        Object.entries(up.headers).filter(([n]) => !['content-length', 'etag', 'last-modified'].includes(n)),
      );
      res.writeHead(up.statusCode ?? 502, { ...keep, 'content-type': 'text/html; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : html);
    });
    upstream.on('error', (err) => fail(res, 502, `the head at ${head.origin} did not answer: ${err.message}`));
    upstream.end();
  };

  const serveAsset = (path: string, res: ServerResponse) => {
    const file = normalize(join(options.out, path));
    if (!file.startsWith(join(options.out, 'assets') + sep) || !existsSync(file) || !statSync(file).isFile())
      return fail(res, 404, `no ${path} in this build`);
    res.writeHead(200, {
      'content-type': TYPES.get(extname(file)) ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    createReadStream(file).pipe(res);
  };

  const server = createServer((req, res) => {
    const forwarding = headHeaders(req);
    if (!forwarding.ok) return fail(res, forwarding.status, forwarding.message);
    const { headers } = forwarding;
    const path = new URL(req.url ?? '/', origin).pathname;
    if (path === `${DEV_PREFIX}reload.js`) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(RELOAD_SCRIPT);
    }
    if (path === `${DEV_PREFIX}events`) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': connected\n\n');
      pages.add(res);
      req.on('close', () => pages.delete(res));
      return;
    }
    if ((path === '/' || path === '/index.html') && (req.method === 'GET' || req.method === 'HEAD'))
      return serveIndex(req, res, headers);
    if (path.startsWith('/assets/')) return serveAsset(path, res);
    const upstream = request(
      { host: head.hostname, port: head.port, path: req.url, method: req.method, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => fail(res, 502, `the head at ${head.origin} did not answer: ${err.message}`));
    req.pipe(upstream);
  });

  // WebSockets (the dashboard's /api/events): the same checks, then bytes both ways.
  server.on('upgrade', (req, socket, rest) => {
    const forwarding = headHeaders(req);
    if (!forwarding.ok) {
      socket.end(`HTTP/1.1 ${forwarding.status} Refused\r\nConnection: close\r\n\r\n${forwarding.message}`);
      return;
    }
    const { headers } = forwarding;
    const upstream = connect(Number(head.port), head.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (const [name, value] of Object.entries(headers))
        for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (rest.length > 0) upstream.write(rest);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : options.port}`;
  return {
    server,
    origin,
    reload: () => {
      for (const page of pages) page.write('event: change\ndata: rebuilt\n\n');
    },
  };
}

function fail(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}
