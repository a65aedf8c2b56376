/**
 * The read-only side of a session, for the UI, the CLI and a restarting head. It opens the file
 * with `{ readonly: true, fileMustExist: true }`, so reading never changes a session, and it
 * reads older schema versions as they are (facts a version lacked come back empty).
 */
import { basename } from 'node:path';
import type Database from 'better-sqlite3';
import { checkResultFile, readCheckedFile } from './result-files.ts';
import { openSessionDb } from './schema.ts';
import type { CostSummary, NodeUsageSample, SessionNodeRow } from '../protocol/state-rows.ts';
import { readCost, readNodeLogs, readTaskCosts, readUsage, type SessionNodeLogLine } from './session-monitoring.ts';
import { SessionUnsafeFileError } from './session-errors.ts';
import { readStoredMeta, toMetadata } from './session-meta.ts';
import { readJobs } from './session-jobs.ts';
import type { JobsReply } from '../protocol/state-rows.ts';
import {
  FINAL_TASK_STATES,
  type FunctionRecord,
  type LogRow,
  type RemoteJobRow,
  type ResultRow,
  type SessionMetadata,
  type SessionSummary,
  type SessionActorEvent,
  type SessionActorLife,
  type TaskEventRow,
  type SessionTaskRow,
} from './session-types.ts';

/** Filters and paging of `tasks()`. */
export interface TaskQuery {
  readonly state?: string;
  readonly name?: string;
  readonly backend?: string;
  /** Default 1000. */
  readonly limit?: number;
  readonly offset?: number;
}

const TASK_COLUMNS = `seq, task_id AS taskId, name, kind, variant, function_hash AS functionHash, actor_id AS actorId,
  method, args_preview AS argsPreview, params_json AS paramsJson, parent_task_id AS parentTaskId,
  options_json AS optionsJson, state, submitted_at AS submittedAt, started_at AS startedAt, ended_at AS endedAt,
  node_id AS nodeId, backend, rule_index AS ruleIndex, attempt, error_name AS errorName,
  error_message AS errorMessage`;

const EVENT_COLUMNS = `task_id AS taskId, ts, state, node_id AS nodeId, backend, rule_index AS ruleIndex,
  attempt, error_name AS errorName, error_message AS errorMessage`;

const FINAL_LIST = FINAL_TASK_STATES.map((s) => `'${s}'`).join(', ');

/** Reads one session. Close it when done. */
export class SessionReader {
  /** Schema version of the file (may be older than this Orrery's). */
  readonly schemaVersion: number;
  private taskColumns: string;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
    schemaVersion: number,
  ) {
    this.schemaVersion = schemaVersion;
    this.taskColumns = schemaVersion >= 2 ? `${TASK_COLUMNS}, exec_ms AS execMs` : `${TASK_COLUMNS}, NULL AS execMs`;
    this.taskColumns += schemaVersion >= 3 ? ', job_id AS jobId' : ', NULL AS jobId';
  }

  /**
   * Opens a session file read-only. Throws SessionUnreadableError (not a database),
   * SessionForeignFileError (not Orrery's) or SessionSchemaTooNewError; never modifies the file.
   */
  static open(file: string): SessionReader {
    const { db, schemaVersion } = openSessionDb(file, 'read');
    return new SessionReader(db, file, schemaVersion);
  }

  /** Session name, times, status (`crashed` when its head died), config and placement rules. */
  metadata(): SessionMetadata {
    return toMetadata(readStoredMeta(this.db), basename(this.file).replace(/\.db$/, ''), this.schemaVersion);
  }

  /** Usage samples per node at or after `since` (none before schema 4), thinned to about `max` when given. */
  usage(since = 0, max?: number): NodeUsageSample[] {
    return readUsage(this.db, this.schemaVersion, since, max);
  }

  /** The last `limit` log lines of a node's workers. */
  nodeLogs(nodeId: string, limit?: number): SessionNodeLogLine[] {
    return readNodeLogs(this.db, nodeId, limit);
  }

  /** Cost reported by the session's tasks, in all and per backend. */
  cost(): CostSummary {
    return readCost(this.db, this.schemaVersion);
  }

  /** The cost each task reported last, with its backend (what a resumed head counts against its budgets). */
  taskCosts(): { readonly taskId: string; readonly backend: string; readonly usd: number }[] {
    return readTaskCosts(this.db, this.schemaVersion);
  }

  /** Tasks in submission order, filtered by state, name and backend. */
  tasks(q: TaskQuery = {}): SessionTaskRow[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: q.limit ?? 1000, offset: q.offset ?? 0 };
    for (const k of ['state', 'name', 'backend'] as const) {
      if (q[k] !== undefined) {
        where.push(`${k} = @${k}`);
        params[k] = q[k];
      }
    }
    const sql = `SELECT ${this.taskColumns} FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT @limit OFFSET @offset`;
    return this.db.prepare(sql).all(params) as SessionTaskRow[];
  }

  /** One task's current row. */
  task(taskId: string): SessionTaskRow | undefined {
    return this.db.prepare(`SELECT ${this.taskColumns} FROM tasks WHERE task_id = ?`).get(taskId) as
      | SessionTaskRow
      | undefined;
  }

  /** Every state change of a task, oldest first. */
  taskEvents(taskId: string): TaskEventRow[] {
    return this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM task_events WHERE task_id = ? ORDER BY id`)
      .all(taskId) as TaskEventRow[];
  }

  /**
   * A task's result bytes (read from its results file when large), or undefined if none was
   * stored. A stored file name that is not a plain file inside the session's results folder (or
   * is a symlink) is never opened: SessionUnsafeFileError.
   */
  result(taskId: string): ResultRow | undefined {
    const r = this.db
      .prepare(
        'SELECT task_id AS taskId, content_type AS contentType, size, inline, file FROM results WHERE task_id = ?',
      )
      .get(taskId) as
      | { taskId: string; contentType: string; size: number; inline: Buffer | null; file: string | null }
      | undefined;
    if (!r) return undefined;
    if (r.file === null)
      return {
        taskId: r.taskId,
        contentType: r.contentType,
        size: r.size,
        bytes: new Uint8Array(r.inline ?? Buffer.alloc(0)),
        file: null,
      };
    const checked = checkResultFile(this.filesDir(), r.file);
    if ('reason' in checked) throw new SessionUnsafeFileError(this.file, taskId, r.file, checked.reason);
    return {
      taskId: r.taskId,
      contentType: r.contentType,
      size: r.size,
      bytes: readCheckedFile(checked.path),
      file: checked.path,
    };
  }

  /** Log lines of a task or of a node, oldest first (`limit` lines, default 10,000). */
  logs(of: { taskId: string } | { nodeId: string }, limit = 10_000): LogRow[] {
    const [col, id] = 'taskId' in of ? ['task_id', of.taskId] : ['node_id', of.nodeId];
    return this.db
      .prepare(
        `SELECT task_id AS taskId, node_id AS nodeId, stream, ts, text, ${this.schemaVersion >= 4 ? 'attempt' : 'NULL AS attempt'}
         FROM logs WHERE ${col} = ? ORDER BY id LIMIT ?`,
      )
      .all(id, limit) as LogRow[];
  }

  /** A task's facts (`jobId`, `costUsd`...). Empty for sessions older than schema v2. */
  taskInfo(taskId: string): Record<string, unknown> {
    if (this.schemaVersion < 2) return {};
    const rows = this.db.prepare('SELECT key, value FROM task_info WHERE task_id = ?').all(taskId) as {
      key: string;
      value: string;
    }[];
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]));
  }

  /** A function's stored code. */
  functionCode(hash: string): FunctionRecord | undefined {
    return this.db.prepare('SELECT hash, name, kind, source FROM functions WHERE hash = ?').get(hash) as
      | FunctionRecord
      | undefined;
  }

  /** Every stored function (without source, which `functionCode` gives). */
  functions(): Omit<FunctionRecord, 'source'>[] {
    return this.db.prepare('SELECT hash, name, kind FROM functions ORDER BY first_seen').all() as Omit<
      FunctionRecord,
      'source'
    >[];
  }

  /** Actors with their latest state. */
  actors(): Record<string, unknown>[] {
    return this.db
      .prepare(`SELECT actor_id AS actorId, class_name AS className, name, state, node_id AS nodeId,
      created_at AS createdAt, updated_at AS updatedAt FROM actors ORDER BY created_at`)
      .all() as Record<string, unknown>[];
  }

  /**
   * What a resumed head needs of each actor: its latest creation task (a restart under a later
   * head is a new creation task), its latest state, and how many restarts it used, oldest first.
   */
  actorLives(): SessionActorLife[] {
    const creations = this.db
      .prepare(
        `SELECT ${this.taskColumns} FROM tasks WHERE kind = 'actor-create' AND actor_id IS NOT NULL ORDER BY seq`,
      )
      .all() as SessionTaskRow[];
    const latest = new Map<string, SessionTaskRow>();
    for (const row of creations) latest.set(row.actorId!, row);
    const state = this.db.prepare('SELECT state FROM actors WHERE actor_id = ?').pluck();
    const restarts = this.db
      .prepare(`SELECT COUNT(*) FROM actor_events WHERE actor_id = ? AND state = 'RESTARTING'`)
      .pluck();
    return [...latest.values()].map((creation) => ({
      actorId: creation.actorId!,
      creation,
      state: (state.get(creation.actorId) as string | undefined) ?? null,
      numRestarts: restarts.get(creation.actorId) as number,
    }));
  }

  /** An actor's recorded changes (created, adopted, restarted, died, with why), oldest first. */
  actorEvents(actorId: string): SessionActorEvent[] {
    return this.db
      .prepare('SELECT ts, state, node_id AS nodeId, detail FROM actor_events WHERE actor_id = ? ORDER BY id')
      .all(actorId) as SessionActorEvent[];
  }

  /** Objects with size, owner and location. */
  objects(): Record<string, unknown>[] {
    return this.db
      .prepare(
        'SELECT object_id AS objectId, size, owner_task_id AS ownerTaskId, location, ts FROM objects ORDER BY ts',
      )
      .all() as Record<string, unknown>[];
  }

  /** Nodes with resources, labels, backend and join/leave times. */
  nodes(): SessionNodeRow[] {
    const rows = this.db
      .prepare(`SELECT node_id AS nodeId, backend, resources_json AS r, labels_json AS l, joined_at AS joinedAt,
      left_at AS leftAt FROM nodes ORDER BY joined_at`)
      .all() as {
      nodeId: string;
      backend: string | null;
      r: string | null;
      l: string | null;
      joinedAt: number | null;
      leftAt: number | null;
    }[];
    return rows.map(({ r, l, ...n }) => ({ ...n, resources: r ? JSON.parse(r) : {}, labels: l ? JSON.parse(l) : {} }));
  }

  /** Task counts per state and per name, and the summed cost facts. */
  summary(): SessionSummary {
    // Task names are users' (and a recorded session is not re-validated): collect in Maps.
    const byState = new Map<string, number>();
    const byName = new Map<string, Map<string, number>>();
    let total = 0;
    for (const r of this.db.prepare('SELECT name, state, COUNT(*) AS n FROM tasks GROUP BY name, state').all() as {
      name: string;
      state: string;
      n: number;
    }[]) {
      total += r.n;
      byState.set(r.state, (byState.get(r.state) ?? 0) + r.n);
      let states = byName.get(r.name);
      if (states === undefined) byName.set(r.name, (states = new Map()));
      states.set(r.state, r.n);
    }
    const sum = (key: string): number =>
      this.schemaVersion < 2
        ? 0
        : (
            this.db.prepare('SELECT TOTAL(CAST(value AS REAL)) AS s FROM task_info WHERE key = ?').get(key) as {
              s: number;
            }
          ).s;
    return {
      total,
      byState: Object.fromEntries(byState),
      byName: Object.fromEntries([...byName].map(([name, states]) => [name, Object.fromEntries(states)])),
      totalCostUsd: sum('costUsd'),
      totalBillableSeconds: sum('billableSeconds'),
    };
  }

  /** Tasks not in a final state (what a crashed head left behind). */
  unfinishedTasks(): SessionTaskRow[] {
    return this.db
      .prepare(`SELECT ${this.taskColumns} FROM tasks WHERE state NOT IN (${FINAL_LIST}) ORDER BY seq`)
      .all() as SessionTaskRow[];
  }

  /** Tasks that were RUNNING as a remote job and never reached a final state: what a restarted head reattaches to. */
  remoteJobs(): RemoteJobRow[] {
    if (this.schemaVersion < 2) return [];
    return this.db
      .prepare(`SELECT j.task_id AS taskId, t.name AS taskName, j.backend, j.remote_job_id AS remoteJobId,
      t.state, j.ts FROM remote_jobs j JOIN tasks t ON t.task_id = j.task_id
      WHERE t.state = 'RUNNING' ORDER BY t.seq, j.ts`)
      .all() as RemoteJobRow[];
  }

  /** Closes the database. */
  /**
   * The drivers' runs (jobs) and the metrics they logged (empty before schema version 3). A run
   * still `running` in a session no head records any more (finished, or crashed) reads
   * `disconnected`: its driver never said how it ended.
   */
  jobs(): JobsReply {
    const r = readJobs(this.db, this.schemaVersion);
    if (this.metadata().status === 'running') return r;
    return {
      jobs: r.jobs.map((j) => (j.status === 'running' ? { ...j, status: 'disconnected' } : j)),
      metrics: r.metrics,
    };
  }

  close(): void {
    this.db.close();
  }

  /** Names of the results files (inside the session's `.files` directory) the database points at. */
  resultFiles(): string[] {
    return (
      this.db.prepare('SELECT file FROM results WHERE file IS NOT NULL ORDER BY ts').all() as { file: string }[]
    ).map((r) => r.file);
  }

  /** Writes a consistent snapshot of the database (WAL included) to a new file. */
  snapshotTo(file: string): void {
    this.db.prepare('VACUUM INTO ?').run(file);
  }

  private filesDir(): string {
    return this.file.replace(/\.db$/, '.files');
  }
}
