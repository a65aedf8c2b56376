/**
 * The head's HTTP API (JSON under `/api/`). A request naming another host is refused first
 * (421, host-check.ts). Every `/api/` request needs a credential (the token as a bearer header,
 * or a dashboard session cookie; head-access.ts), whatever the path: an unknown path without one
 * is 401, not 404, so nothing is learnt without it.
 *
 *   GET  /api/status                       nodes, resources, pending demand, infeasible requests
 *   GET  /api/tasks|actors|objects|nodes|placement-groups   ?filter=k=v (or k!=v, repeatable) &limit=N
 *   GET  /api/summary/tasks                task counts per name and state
 *   GET  /api/logs/:taskId                 { taskId, lines, entries: { attempt, stream, text }[] }; ?follow=1 streams text lines until the task ends
 *   POST /api/tasks/:taskId/cancel         ?force=1: cancels a task (and the tasks it submitted); { taskId, state }
 *   POST /api/tasks/:taskId/retry          submits a failed or cancelled task again as a new task, owned by the head; 201 { taskId, retryOf }
 *   POST /api/tasks/:taskId/retry?rerun=1  the same for any task that ended, a finished one too (the dashboard's Re-run)
 *   POST /api/actors/:actor/kill           kills an actor by id or name (?namespace=NS), no restart (?restart=1: restarts it within its maxRestarts); { actorId, name }
 *   POST /api/jobs/:jobId/cancel           ?force=1: cancels every unfinished task of a run (job-cancel.ts); { jobId, cancelled, ended, force }
 *   POST /api/shutdown                     stops the service; { pid, exitFile, log }: where it records how it ended
 *   POST /api/login-codes                  { url, expiresAt }: a one-time dashboard login URL (token only)
 *   POST /api/login-pages                  { path, expiresAt }: a login page file that forwards to one (token only)
 *
 *   GET  /metrics                          Prometheus text format (head-metrics.ts; the token as a bearer header only)
 *
 * The dashboard's routes (tasks/:id, backends, secrets, placement-rules, sessions, examples, usage, node-logs, cost)
 * are in dashboard-routes.ts and described in dashboard-api.md; `/login` trades a one-time code
 * for a session cookie (dashboard-login.ts); `/` and `/assets/*` serve the dashboard's files
 * without a credential (dashboard-static.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TaskRetryRefusedError, type TaskRetryRefusal } from '../core/errors.ts';
import type { Head } from '../head/head.ts';
import type { ActorRow, StateFilter, StateQuery } from '../protocol/state-rows.ts';
import type { ConnectionGuard } from './connection-guard.ts';
import { LOGIN_PATH, type DashboardLogin } from './dashboard-login.ts';
import { dashboardPage } from './dashboard-page.ts';
import type { Dashboard } from './dashboard-routes.ts';
import { serveDashboardFile } from './dashboard-static.ts';
import type { Credential, HeadAccess } from './head-access.ts';
import { hostRefusal } from './host-check.ts';
import { cancelJob, UnknownJobError } from './job-cancel.ts';
import { statusView } from './status-view.ts';
import { METRICS_PATH, type HeadMetrics } from './head-metrics.ts';

/** After its task ended, a followed log stays open this long for the output still on its way. */
const FOLLOW_DRAIN_MS = 300;
const FOLLOW_POLL_MS = 200;

/** What the routes need from the service. */
export interface HttpApiContext {
  readonly head: Head;
  /** Who may come in. */
  readonly access: HeadAccess;
  /** Told which sockets showed a credential. */
  readonly connections: ConnectionGuard;
  readonly login: DashboardLogin;
  drivers(): number;
  /** Seconds the head's agents keep running without it (a service head's `--agent-grace`). */
  readonly agentGraceS?: number;
  /** Called by POST /api/shutdown after the reply went out. */
  shutdown(): void;
  /** The dashboard's routes and files (a service without one serves only the placeholder page). */
  readonly dashboard?: Dashboard;
  /** Where the service records how it ended, and its log (told to `orrery stop`). */
  readonly exit?: { readonly file: string; readonly log: string };
  /** `GET /metrics` for Prometheus (head-metrics.ts). */
  readonly metrics?: HeadMetrics;
}

/** A request the API refuses, with its HTTP status. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const LISTS: Record<string, StateQuery> = {
  tasks: 'tasks',
  actors: 'actors',
  objects: 'objects',
  nodes: 'nodes',
  'placement-groups': 'placement-groups',
};

/** Handles one HTTP request. */
export function handleHttp(ctx: HttpApiContext, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://head');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (!ctx.access.hostAllowed(req)) return send(res, 421, { error: hostRefusal(req) });
  if (url.pathname === LOGIN_PATH) return ctx.login.handle(req, res, url);
  if (url.pathname === METRICS_PATH && ctx.metrics) return serveMetrics(ctx, ctx.metrics, req, res, url);
  if (!url.pathname.startsWith('/api/') && url.pathname !== '/api') {
    if (ctx.dashboard && serveDashboardFile(req, res, url)) return;
    if (ctx.dashboard || url.pathname !== '/' || (req.method !== 'GET' && req.method !== 'HEAD'))
      return send(res, 404, { error: `no page at ${url.pathname}` });
    const { html, csp } = dashboardPage();
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': csp,
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    });
    res.end(html);
    return;
  }
  const verdict = ctx.access.check(req, url);
  if (!verdict.ok) return send(res, verdict.status, { error: verdict.error });
  ctx.connections.trust(req.socket);
  try {
    if (ctx.dashboard?.handle(req, res, apiParts(url), url)) return;
    route(ctx, req, res, url, verdict.via);
  } catch (err) {
    if (err instanceof ApiError) send(res, err.status, { error: err.message });
    else send(res, 400, { error: (err as Error).message });
  }
}

/** `GET /metrics`: the token as a bearer header only (a scraper has no browser session). */
function serveMetrics(
  ctx: HttpApiContext,
  metrics: HeadMetrics,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): void {
  const verdict = ctx.access.check(req, url);
  if (!verdict.ok) return send(res, verdict.status, { error: verdict.error });
  if (verdict.via !== 'token')
    return send(res, 401, {
      error:
        '/metrics needs the token as Authorization: Bearer <token> (in Prometheus: authorization: { credentials_file: ... }); a browser session is not enough',
    });
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return send(res, 405, { error: `${METRICS_PATH} takes GET, not ${req.method}` });
  ctx.connections.trust(req.socket);
  metrics.serve(res).catch((err: Error) => {
    if (res.headersSent) res.destroy();
    else send(res, 500, { error: `metrics could not be read: ${err.message}` });
  });
}

/** The path after `/api/`, split and decoded. */
function apiParts(url: URL): string[] {
  return url.pathname.split('/').filter(Boolean).slice(1).map(decodeURIComponent);
}

function route(ctx: HttpApiContext, req: IncomingMessage, res: ServerResponse, url: URL, via: Credential): void {
  const parts = apiParts(url);
  const method = req.method ?? 'GET';
  const get = () => {
    if (method !== 'GET') throw new ApiError(405, `${url.pathname} takes GET, not ${method}`);
  };
  const post = () => {
    if (method !== 'POST') throw new ApiError(405, `${url.pathname} takes POST, not ${method}`);
  };
  const [first, second] = parts;
  if (first === 'shutdown' && parts.length === 1) {
    if (method !== 'POST') throw new ApiError(405, `${url.pathname} takes POST, not ${method}`);
    send(res, 202, { ok: true, pid: process.pid, exitFile: ctx.exit?.file, log: ctx.exit?.log });
    res.once('finish', () => ctx.shutdown());
    return;
  }
  if ((first === 'login-codes' || first === 'login-pages') && parts.length === 1) {
    if (method !== 'POST') throw new ApiError(405, `${url.pathname} takes POST, not ${method}`);
    if (via !== 'token')
      throw new ApiError(
        403,
        'login links are given only to a holder of the token (Authorization: Bearer), not to a browser session',
      );
    return send(res, 201, first === 'login-codes' ? ctx.login.newUrl() : ctx.login.newPage());
  }
  if (first === 'status' && parts.length === 1) {
    get();
    return send(res, 200, statusView(ctx.head, ctx.drivers(), ctx.agentGraceS));
  }
  if (first && Object.hasOwn(LISTS, first) && parts.length === 1) {
    get();
    return send(res, 200, list(ctx.head, LISTS[first]!, url));
  }
  if (first === 'summary' && second === 'tasks' && parts.length === 2) {
    get();
    return send(res, 200, ctx.head.queries.state('summary'));
  }
  if (first === 'tasks' && second && parts[2] === 'cancel' && parts.length === 3) {
    post();
    if (!ctx.head.queries.task(second))
      throw new ApiError(404, `no task ${second} on this head; see orrery list tasks`);
    const force = url.searchParams.get('force') === '1' || url.searchParams.get('force') === 'true';
    void ctx.head.requests.serve({ op: 'cancel', id: second, force, recursive: true }, { jobId: '' });
    return send(res, 200, { taskId: second, state: ctx.head.queries.task(second)?.state });
  }
  if (first === 'tasks' && second && parts[2] === 'retry' && parts.length === 3) {
    post();
    return send(res, 201, retryTask(ctx.head, second, flag(url, 'rerun')));
  }
  if (first === 'actors' && second && parts[2] === 'kill' && parts.length === 3) {
    post();
    const actor = findActor(ctx.head, second, url.searchParams.get('namespace') ?? undefined);
    const noRestart = !flag(url, 'restart');
    void ctx.head.requests.serve({ op: 'kill-actor', actorId: actor.actorId, noRestart }, { jobId: '' });
    return send(res, 200, { actorId: actor.actorId, name: actor.name });
  }
  if (first === 'jobs' && second && parts[2] === 'cancel' && parts.length === 3) {
    post();
    try {
      return send(res, 200, cancelJob(ctx.head, second, flag(url, 'force')));
    } catch (err) {
      if (err instanceof UnknownJobError) throw new ApiError(404, err.message);
      throw err;
    }
  }
  if (first === 'logs' && second && parts.length === 2) {
    get();
    if (!ctx.head.queries.task(second))
      throw new ApiError(404, `no task ${second} on this head; see orrery list tasks`);
    if (url.searchParams.get('follow') === '1' || url.searchParams.get('follow') === 'true')
      return followLogs(ctx.head, second, res);
    return send(res, 200, {
      taskId: second,
      lines: ctx.head.logs.lines(second),
      entries: ctx.head.logs.entries(second),
    });
  }
  throw new ApiError(404, `no API at ${url.pathname}; see the routes in orrery's API docs`);
}

/** The HTTP status of each reason a retry is refused. */
const RETRY_REFUSAL_STATUS: Record<TaskRetryRefusal, number> = {
  unknown: 404,
  'not-ended': 409,
  'actor-task': 409,
  'argument-gone': 410,
  'code-gone': 410,
};

/**
 * Submits a failed task again under the head's own job (Head.ownJobId): no driver needs to be
 * connected, and the new result is held until the head shuts down.
 */
function retryTask(head: Head, taskId: string, rerun: boolean): { taskId: string; retryOf: string } {
  try {
    const r = head.requests.serve({ op: 'retry', taskId, rerun }, { jobId: head.ownJobId() });
    if (r instanceof Promise) throw new TypeError('retry is answered synchronously');
    return { taskId: r.taskId, retryOf: taskId };
  } catch (err) {
    if (err instanceof TaskRetryRefusedError) throw new ApiError(RETRY_REFUSAL_STATUS[err.refusal], err.message);
    throw err;
  }
}

/** A yes/no query parameter (`1` or `true`). */
function flag(url: URL, name: string): boolean {
  const v = url.searchParams.get(name);
  return v === '1' || v === 'true';
}

/** An actor by id, else by name (in `namespace` when given); 404 when none, 409 when a name is in several namespaces. */
function findActor(head: Head, key: string, namespace: string | undefined): ActorRow {
  const rows = head.queries.state('actors') as ActorRow[];
  const byId = rows.find((a) => a.actorId === key && (namespace === undefined || a.namespace === namespace));
  if (byId) return byId;
  const named = rows.filter(
    (a) => a.name === key && a.state !== 'DEAD' && (namespace === undefined || a.namespace === namespace),
  );
  if (named.length === 1) return named[0]!;
  if (named.length > 1)
    throw new ApiError(
      409,
      `${named.length} live actors are named ${key} (namespaces ${named.map((a) => a.namespace).join(', ')}); give --namespace`,
    );
  throw new ApiError(
    404,
    `no live actor with id or name ${key}${namespace === undefined ? '' : ` in namespace ${namespace}`} on this head; see orrery list actors`,
  );
}

/** Filters from `?filter=key=value` / `?filter=key!=value`. */
export function parseFilters(values: readonly string[]): StateFilter[] {
  return values.map((f) => {
    const m = /^([^=!]+)(!=|=)(.*)$/.exec(f);
    if (!m) throw new ApiError(400, `filter ${JSON.stringify(f)} must be key=value or key!=value`);
    return [m[1]!.trim(), m[2] as '=' | '!=', m[3]!];
  });
}

function list(head: Head, query: StateQuery, url: URL): unknown {
  const filters = parseFilters(url.searchParams.getAll('filter'));
  const l = url.searchParams.get('limit');
  const limit = l === null ? undefined : Number(l);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new ApiError(400, `limit must be a positive integer (got ${JSON.stringify(l)})`);
  return head.queries.state(query, filters, limit);
}

/** Streams a task's lines (those kept, then new ones) as text until the task ended, or the client left. */
function followLogs(head: Head, taskId: string, res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
  for (const line of head.logs.lines(taskId)) res.write(`${line}\n`);
  const unsubscribe = head.logs.subscribe((l) => {
    if (l.taskId === taskId) res.write(`${l.text}\n`);
  });
  let ending: NodeJS.Timeout | undefined;
  const poll = setInterval(() => {
    const state = head.queries.task(taskId)?.state;
    if (ending || (state !== undefined && state !== 'FINISHED' && state !== 'FAILED')) return;
    ending = setTimeout(stop, FOLLOW_DRAIN_MS);
  }, FOLLOW_POLL_MS);
  const stop = () => {
    clearInterval(poll);
    if (ending) clearTimeout(ending);
    unsubscribe();
    if (!res.writableEnded) res.end();
  };
  res.once('close', stop);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
