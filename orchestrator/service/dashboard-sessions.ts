/**
 * Experiment sessions for the dashboard: the list, one session's details and tasks, one task's
 * detail, the comparison of two sessions, and the export archive. Sessions are opened
 * read-only per request (a reader of the session being recorded sees what was flushed so far).
 */
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dataRoot, ensurePrivateDir } from '../core/runtime-dir.ts';
import type { ServerResponse } from 'node:http';
import {
  compareManySessions,
  compareSessions,
  MAX_COMPARED_SESSIONS,
  SessionLabelsError,
  validateLabelsPatch,
  SessionError,
  SessionNotFoundError,
  SessionStore,
  type SessionComparison,
  type SessionDetails,
  type SessionListing,
  type SessionReader,
} from '../sessions/index.ts';
import { validatePlacementRules, type PlacementRule } from '../scheduler/placement-rules.ts';
import { DashboardRequestError } from './dashboard-errors.ts';
import { RULES_LOG } from './dashboard-rules.ts';
import type {
  CostSummary,
  JobsReply,
  MultiSessionComparison,
  NodeUsageSample,
  SessionNodeRow,
  SessionRow,
  TaskView,
} from '../protocol/state-rows.ts';
import type { SessionNodeLogLine } from '../sessions/index.ts';
import { sessionTaskDetail, sessionTaskView, type TaskDetail } from './dashboard-tasks.ts';

/** Default and largest page of GET /api/sessions/:name/tasks. */
const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 100_000;

/** The sessions directory, as the dashboard reads it. */
export class DashboardSessions {
  constructor(private readonly store = new SessionStore()) {}

  /** GET /api/sessions. */
  list(): SessionListing[] {
    return this.store.list();
  }

  /** GET /api/sessions/:name. */
  show(name: string): SessionDetails {
    return guard(() => this.store.show(name));
  }

  /** GET /api/sessions/:name/tasks?offset=&limit=&state=&name=: a page of tasks and how many match. */
  tasks(session: string, q: URLSearchParams): { tasks: TaskView[]; total: number } {
    const offset = intParam(q, 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    const limit = intParam(q, 'limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT;
    const state = q.get('state') || undefined;
    const name = q.get('name') || undefined;
    return this.read(session, (r) => {
      const rows = r.tasks({ offset, limit, state, name });
      const s = r.summary();
      const total =
        name !== undefined
          ? Object.entries(Object.hasOwn(s.byName, name) ? s.byName[name]! : {}).reduce(
              (n, [st, c]) => n + (state === undefined || st === state ? c : 0),
              0,
            )
          : state !== undefined
            ? Object.hasOwn(s.byState, state)
              ? s.byState[state]!
              : 0
            : s.total;
      return { tasks: rows.map((row) => sessionTaskView(row, r.taskInfo(row.taskId))), total };
    });
  }

  /** GET /api/sessions/:name/nodes: the nodes the session recorded (empty when it recorded none). */
  nodes(session: string): SessionNodeRow[] {
    return this.read(session, (r) => r.nodes());
  }

  /** GET /api/sessions/:name/jobs: the drivers' runs the session recorded and the metrics they logged. */
  jobs(session: string): JobsReply {
    return this.read(session, (r) => r.jobs());
  }

  /** GET /api/sessions/:name/tasks/:id. */
  task(session: string, taskId: string): TaskDetail {
    return this.read(session, (r) => {
      const row = r.task(taskId);
      if (!row) throw new DashboardRequestError(404, `session ${session} has no task ${taskId}`);
      return sessionTaskDetail(r, row, rulesAt(r, row.submittedAt));
    });
  }

  /** GET /api/sessions/compare?a=&b=. */
  compare(a: string | null, b: string | null): SessionComparison {
    if (!a || !b)
      throw new DashboardRequestError(400, 'compare needs two sessions: /api/sessions/compare?a=NAME&b=NAME', {
        ...(a ? {} : { a: 'required' }),
        ...(b ? {} : { b: 'required' }),
      });
    return this.read(a, (ra) => this.read(b, (rb) => compareSessions(ra, rb)));
  }

  /**
   * GET /api/sessions/compare?s=A&s=B&s=C: two to eight sessions against the first. Each is
   * opened once, read-only, and all are closed before the reply is sent.
   */
  compareMany(names: readonly string[]): MultiSessionComparison {
    if (names.length < 2 || names.length > MAX_COMPARED_SESSIONS)
      throw new DashboardRequestError(
        400,
        `compare needs 2 to ${MAX_COMPARED_SESSIONS} sessions, the baseline first: /api/sessions/compare?s=A&s=B&s=C (got ${names.length})`,
        { s: `2 to ${MAX_COMPARED_SESSIONS} session names` },
      );
    const readers: SessionReader[] = [];
    try {
      for (const n of names) readers.push(guard(() => this.store.open(n)));
      return compareManySessions(readers);
    } finally {
      for (const r of readers) r.close();
    }
  }

  /** PATCH /api/sessions/:name { title?, notes?, tags? }: the session's row with its new labels. */
  label(name: string, body: unknown): SessionRow {
    let patch: ReturnType<typeof validateLabelsPatch>;
    try {
      patch = validateLabelsPatch(body);
    } catch (err) {
      if (err instanceof SessionLabelsError)
        throw new DashboardRequestError(400, err.message, { [err.field]: err.message });
      throw err;
    }
    guard(() => this.store.label(name, patch));
    const row = this.store.list().find((s) => s.name === name);
    if (!row) throw new DashboardRequestError(404, `session ${name} is gone`);
    return row;
  }

  /** GET /api/sessions/:name/export: the .tar.gz, as an attachment. */
  async export(name: string, res: ServerResponse): Promise<void> {
    const dir = mkdtempSync(join(ensurePrivateDir(dataRoot()), 'dashboard-export-'));
    try {
      const file = join(dir, `${name}.tar.gz`);
      const out = await guardAsync(() => this.store.export(name, file));
      res.writeHead(200, {
        'Content-Type': 'application/gzip',
        'Content-Length': out.bytes,
        'Content-Disposition': `attachment; filename="${name}.tar.gz"`,
      });
      await new Promise<void>((resolve, reject) => {
        const s = createReadStream(file);
        s.on('error', reject);
        res.on('close', resolve);
        s.pipe(res);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** GET /api/sessions/:name/usage?since=: the usage samples it recorded (all of them without `since`; thinned to about 20,000). */
  usage(session: string, q: URLSearchParams): { samples: NodeUsageSample[] } {
    const since = Number(q.get('since') ?? 0);
    if (!Number.isFinite(since))
      throw new DashboardRequestError(400, 'since must be a time in ms since the epoch', { since: 'a number' });
    return this.read(session, (r) => ({ samples: r.usage(since, 20_000) }));
  }

  /** GET /api/sessions/:name/node-logs/:nodeId: the last 2,000 lines the node's workers printed. */
  nodeLogs(session: string, nodeId: string): { nodeId: string; lines: SessionNodeLogLine[] } {
    return this.read(session, (r) => ({ nodeId, lines: r.nodeLogs(nodeId) }));
  }

  /** GET /api/sessions/:name/cost. */
  cost(session: string): CostSummary {
    return this.read(session, (r) => r.cost());
  }

  private read<T>(name: string, f: (r: SessionReader) => T): T {
    const r = guard(() => this.store.open(name));
    try {
      return f(r);
    } finally {
      r.close();
    }
  }
}

/** The placement rules in force when a task was submitted: the last list recorded before it, else the session's first. */
function rulesAt(r: SessionReader, ts: number): PlacementRule[] | undefined {
  let json: string | undefined;
  for (const l of r.logs({ nodeId: RULES_LOG.nodeId })) {
    if (l.stream === RULES_LOG.stream && l.text.startsWith(RULES_LOG.prefix) && l.ts <= ts)
      json = l.text.slice(RULES_LOG.prefix.length);
  }
  try {
    return validatePlacementRules(json !== undefined ? JSON.parse(json) : (r.metadata().placementRules ?? []));
  } catch {
    return undefined;
  }
}

function intParam(q: URLSearchParams, key: string, min: number, max: number): number | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new DashboardRequestError(400, `${key} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`, {
      [key]: `an integer from ${min} to ${max}`,
    });
  return n;
}

/** Session errors as HTTP: an unknown session is a 404, a bad name or an unreadable file a 400. */
function guard<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw asRequestError(err);
  }
}

async function guardAsync<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw asRequestError(err);
  }
}

function asRequestError(err: unknown): unknown {
  if (err instanceof SessionNotFoundError) return new DashboardRequestError(404, err.message);
  if (err instanceof SessionError || err instanceof TypeError)
    return new DashboardRequestError(400, (err as Error).message);
  return err;
}
