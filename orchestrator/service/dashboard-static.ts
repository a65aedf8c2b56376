/**
 * The dashboard's files: `/` and `/assets/*` from renderer/dist (built by `npm run
 * build:renderer`). They need no credential (the page's calls to /api and the events socket
 * carry the session cookie of a one-time login, dashboard-login.ts); the HTML carries a strict
 * Content-Security-Policy and is never cached, while assets with a content hash in their name
 * (`app-<hash>.js`) are cached for good. Without a build, `/` is the placeholder page, which
 * says how to build the dashboard.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, extname, join, resolve, sep } from 'node:path';
import { dashboardPage } from './dashboard-page.ts';
import { packagePath } from '../core/package-root.ts';

/** Where the built renderer is. */
export const RENDERER_DIST = packagePath('renderer', 'dist');

/** The policy of the dashboard's HTML: its own scripts only, its own API and loopback sockets. */
export const DASHBOARD_CSP =
  "default-src 'self'; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/** A content hash in a file name, as renderer/build.ts has esbuild write it (`app-WPZZRTL6.js`, `app-VIQ2FXGE.css.map`). */
export const HASHED_NAME = /-[A-Z0-9]{8}\.[a-z0-9.]+$/;

/** Headers every HTML page of the head carries: no referrer, no framing. */
const HTML_HEADERS = { 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' };

/**
 * Serves a GET or HEAD of a non-API path: `/` (index.html), `/assets/...` and the other files
 * at the top of the build. Returns false when there is no such file (the caller answers 404).
 */
export function serveDashboardFile(req: IncomingMessage, res: ServerResponse, url: URL, dist = RENDERER_DIST): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const built = existsSync(join(dist, 'index.html'));
  if (url.pathname === '/' || url.pathname === '/index.html') {
    if (!built) return placeholder(res, req.method === 'HEAD');
    return sendFile(req, res, join(dist, 'index.html'));
  }
  if (!built) return false;
  let rel: string;
  try {
    rel = decodeURIComponent(url.pathname).replace(/^\/+/, '');
  } catch {
    return false;
  }
  // Only assets/ and files at the top of the build; never a path out of it.
  if (rel.includes('\0') || (rel.includes('/') && !rel.startsWith('assets/'))) return false;
  const file = resolve(dist, rel);
  if (!file.startsWith(resolve(dist) + sep)) return false;
  return sendFile(req, res, file);
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: string): boolean {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return false;
    size = st.size;
  } catch {
    return false;
  }
  const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  const headers: Record<string, string | number> = { 'Content-Type': type, 'Content-Length': size };
  if (type.startsWith('text/html')) Object.assign(headers, HTML_HEADERS, { 'Content-Security-Policy': DASHBOARD_CSP });
  // A hashed name never changes content; anything else (index.html names the hashed files) is fetched anew.
  headers['Cache-Control'] = HASHED_NAME.test(basename(file))
    ? 'public, max-age=31536000, immutable'
    : type.startsWith('text/html')
      ? 'no-store'
      : 'no-cache';
  res.writeHead(200, headers);
  if (req.method === 'HEAD') res.end();
  else
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  return true;
}

function placeholder(res: ServerResponse, head: boolean): true {
  const { html, csp } = dashboardPage();
  const hint =
    '<p>The dashboard is not built yet: run <code>npm run build:renderer</code> in the Orrery repository (an installed package ships it built), then reload this page.</p>';
  const page = html.replace('</h1>', `</h1>\n${hint}`);
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': csp, ...HTML_HEADERS });
  res.end(head ? undefined : page);
  return true;
}
