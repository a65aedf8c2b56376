/**
 * The CLI's side of the HTTP API: which head to talk to (`--address`, else ORRERY_ADDRESS,
 * else head.json) with which token (ORRERY_TOKEN, else head.json: never the command line,
 * which every local user can read) and JSON requests with one-line errors.
 */
import { request, type IncomingMessage } from 'node:http';
import { headFilePath, readHeadFile, runningHead } from './head-file.ts';
import { ClientOptionError, HeadAuthError, HeadUnreachableError, NoHeadRunningError } from './client-errors.ts';

/** A head the CLI talks to. */
export interface HeadTarget {
  /** HTTP base URL. */
  readonly url: string;
  readonly token: string;
  /** Its process id, when known from head.json. */
  readonly pid?: number;
}

/** `ws://h:p` -> `http://h:p` (an http URL is taken as it is). */
export function httpUrlOf(address: string): string {
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw new ClientOptionError(`address ${JSON.stringify(address)} is not a URL; use ws://HOST:PORT (or 'auto')`);
  }
  if (u.protocol === 'ws:' || u.protocol === 'http:') return `http://${u.host}`;
  if (u.protocol === 'wss:' || u.protocol === 'https:') return `https://${u.host}`;
  throw new ClientOptionError(`address ${address} must start with ws:// (or http://)`);
}

/** Finds the head to talk to; throws NoHeadRunningError when none is known. */
export function resolveTarget(opts: { address?: string }): HeadTarget {
  const address = opts.address ?? process.env.ORRERY_ADDRESS;
  if (address && address !== 'auto') {
    const url = httpUrlOf(address);
    let token = process.env.ORRERY_TOKEN;
    let pid: number | undefined;
    const file = readHeadFile();
    if (file && httpUrlOf(file.address) === url) {
      token ??= file.token;
      pid = file.pid;
    }
    if (!token)
      throw new ClientOptionError(
        `no token for the head at ${address}: set ORRERY_TOKEN (the token is in that head's head.json)`,
      );
    return { url, token, pid };
  }
  const h = runningHead();
  if (!h) throw new NoHeadRunningError(headFilePath());
  return { url: h.url, token: h.token, pid: h.pid };
}

/** Sends a request to the API; resolves with the response (status and body stream). */
export function apiRequest(t: HeadTarget, method: 'GET' | 'POST', path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, t.url),
      { method, headers: { Authorization: `Bearer ${t.token}` } },
      async (res) => {
        if (res.statusCode === 401) {
          res.resume();
          return reject(new HeadAuthError(t.url, 401));
        }
        if ((res.statusCode ?? 500) >= 400) {
          const text = await readAll(res);
          let msg = text;
          try {
            msg = (JSON.parse(text) as { error?: string }).error ?? text;
          } catch {
            // not JSON: keep the text
          }
          return reject(new Error(`the head answered ${res.statusCode} for ${path}: ${msg}`));
        }
        resolve(res);
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(new HeadUnreachableError(t.url, err.code === 'ECONNREFUSED' ? 'connection refused' : err.message)),
    );
    req.end();
  });
}

/** GET or POST returning parsed JSON. */
export async function apiJson<T>(t: HeadTarget, method: 'GET' | 'POST', path: string): Promise<T> {
  const res = await apiRequest(t, method, path);
  return JSON.parse(await readAll(res)) as T;
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
