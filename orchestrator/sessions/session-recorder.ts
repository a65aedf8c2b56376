/**
 * The write side of a session. The head calls it from its event loop, so every `record*` call
 * only queues a prepared-statement run; the queue is written in one transaction every
 * `flushIntervalMs` (an unref'd timer) or once `flushEvents` records are waiting, and on close.
 * Write failures never throw into the head: each kind is reported once through `onError` and
 * the records it hit are dropped (counted in `stats.dropped`).
 */
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openSessionDb } from './schema.ts';
import type { NodeUsageSample } from '../protocol/state-rows.ts';
import { LogBudget } from './log-budget.ts';
import { prepareRecorderStatements, type RecorderStatements } from './recorder-statements.ts';
import { writeResultFile } from './result-files.ts';
import { isSecretRef } from '../core/secret-ref.ts';
import { isSecretKey, REDACTED, redactSecrets } from '../core/secret-values.ts';
import { stripSecretKeys } from './secret-keys.ts';
import {
  SecretInConfigError,
  SessionDiskFullError,
  type SessionError,
  SessionExistsError,
  SessionInUseError,
  SessionWriteError,
} from './session-errors.ts';
import { isRecordingLive } from './session-liveness.ts';
import type { JobRow, MetricPoint } from '../protocol/state-rows.ts';
import { readStoredMeta, writeStoredMeta } from './session-meta.ts';
import { resultFileName, sessionPaths, type SessionPaths } from './session-paths.ts';
import {
  FINAL_TASK_STATES,
  type ActorRecord,
  type FunctionRecord,
  type LogRecord,
  type NodeRecord,
  type ObjectRecord,
  type SessionStatus,
  type TaskStateRecord,
  type TaskSubmitRecord,
} from './session-types.ts';

/** Options of `SessionRecorder.open` (usually reached through `SessionStore.record`). */
export interface RecorderOptions {
  /** The sessions directory (created with mode 0700 if missing). */
  readonly dir: string;
  readonly name: string;
  readonly orreryVersion: string;
  /** The head's config; must name secrets only. Secret-looking keys are stripped anyway. */
  readonly config?: unknown;
  readonly placementRules?: unknown;
  /** Continue an existing session (a restarted head) instead of requiring a new name. */
  readonly resume?: boolean;
  /** Receives each kind of write failure once, and a SecretInConfigError when keys were stripped. */
  readonly onError?: (err: SessionError) => void;
  /** Default 50 ms. */
  readonly flushIntervalMs?: number;
  /** Queue length that forces a flush; default 500. */
  readonly flushEvents?: number;
  /** Results up to this size are stored in the database; default 64 KiB. */
  readonly inlineResultBytes?: number;
  /** Log bytes kept per task (or node); default 1 MiB. */
  readonly logCapBytes?: number;
  /** Caps the database file size (SQLite `max_page_count`); writes past it fail as disk full. */
  readonly maxDbBytes?: number;
}

/** Counters for tests and the UI. */
export interface RecorderStats {
  /** Records committed. */
  written: number;
  /** Records lost to write failures. */
  dropped: number;
}

const PREVIEW_CHARS = 200;
const PARAMS_JSON_CHARS = 4096;

/** Records one session. Create with `SessionRecorder.open` or `SessionStore.record`. */
export class SessionRecorder {
  readonly paths: SessionPaths;
  readonly stats: RecorderStats = { written: 0, dropped: 0 };
  private readonly db: Database.Database;
  private readonly st: RecorderStatements;
  private queue: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly seenFunctions = new Set<string>();
  private readonly logBudget: LogBudget;
  private readonly pendingFiles = new Set<Promise<void>>();
  private readonly reported = new Set<string>();
  private closed = false;

  private constructor(
    db: Database.Database,
    paths: SessionPaths,
    private readonly opts: RecorderOptions,
  ) {
    this.db = db;
    this.paths = paths;
    this.st = prepareRecorderStatements(db);
    this.logBudget = new LogBudget(opts.logCapBytes ?? 1024 * 1024);
  }

  /**
   * Opens session `name` for recording: creates it, or with `resume` continues it (migrating an
   * older schema). Throws TypeError (bad name), SessionExistsError, SessionInUseError, or the
   * open errors of `openSessionDb` (unreadable, foreign, newer schema); these are the only throws.
   */
  static open(opts: RecorderOptions): SessionRecorder {
    const paths = sessionPaths(opts.dir, opts.name);
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    let db: Database.Database;
    if (existsSync(paths.db)) {
      if (!opts.resume) throw new SessionExistsError(opts.name, paths.db);
      db = openSessionDb(paths.db, 'write').db;
      const prev = readStoredMeta(db);
      if (
        prev.pid !== process.pid &&
        isRecordingLive({ status: prev.status ?? '', pid: prev.pid ?? 0, hostname: prev.hostname ?? '' })
      ) {
        db.close();
        throw new SessionInUseError(opts.name, paths.db, prev.pid ?? 0, prev.hostname ?? '');
      }
    } else {
      // Claim the name atomically so two heads cannot both create it.
      try {
        closeSync(openSync(paths.db, 'wx', 0o600));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new SessionExistsError(opts.name, paths.db);
        throw err;
      }
      try {
        db = openSessionDb(paths.db, 'create').db;
      } catch (err) {
        rmSync(paths.db, { force: true });
        throw err;
      }
    }
    if (opts.maxDbBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(opts.maxDbBytes / pageSize))}`);
    }
    const rec = new SessionRecorder(db, paths, opts);
    rec.start();
    return rec;
  }

  private start(): void {
    const config = stripSecretKeys(this.opts.config ?? null, 'config');
    const rules = stripSecretKeys(this.opts.placementRules ?? null, 'placementRules');
    const stripped = [...config.stripped, ...rules.stripped];
    const prev = readStoredMeta(this.db);
    writeStoredMeta(this.db, {
      name: this.opts.name,
      createdAt: prev.createdAt ?? Date.now(),
      endedAt: null,
      status: 'running',
      orreryVersion: this.opts.orreryVersion,
      pid: process.pid,
      hostname: hostname(),
      config: config.value,
      placementRules: rules.value,
      strippedConfigKeys: stripped,
    });
    for (const r of this.db.prepare('SELECT hash FROM functions').all() as { hash: string }[])
      this.seenFunctions.add(r.hash);
    this.logBudget.load(this.db);
    if (stripped.length > 0) this.opts.onError?.(new SecretInConfigError(this.paths.db, stripped));
  }

  /** Stores a remote function's code once per hash. */
  recordFunction(f: FunctionRecord): void {
    if (this.seenFunctions.has(f.hash)) return;
    this.seenFunctions.add(f.hash);
    this.enqueue(this.st.insertFunction, {
      hash: f.hash,
      name: f.name,
      kind: f.kind,
      source: f.source,
      ts: Date.now(),
    });
  }

  /** Records a submitted task (its current row and its first event). */
  recordTaskSubmitted(t: TaskSubmitRecord): void {
    const ts = t.ts ?? Date.now();
    const state = t.state ?? 'PENDING_ARGS_AVAIL';
    this.enqueue(this.st.insertTask, {
      taskId: t.taskId,
      name: t.name,
      kind: t.kind,
      variant: t.variant ?? null,
      functionHash: t.functionHash ?? null,
      actorId: t.actorId ?? null,
      method: t.method ?? null,
      argsPreview: t.argsPreview === undefined ? null : t.argsPreview.slice(0, PREVIEW_CHARS),
      paramsJson: smallJson(redactSecrets(t.params, isSecretRef).value),
      parentTaskId: t.parentTaskId ?? null,
      optionsJson: t.options === undefined ? null : smallJson(redactSecrets(t.options).value, Infinity),
      state,
      ts,
      jobId: t.jobId ?? null,
    });
    this.enqueue(this.st.insertTaskEvent, eventParams(t.taskId, { state, ts }));
  }

  /** Records a state change: appends to the event log and updates the task's current row. */
  recordTaskState(taskId: string, e: TaskStateRecord): void {
    const p = eventParams(taskId, e);
    this.enqueue(this.st.insertTaskEvent, p);
    this.enqueue(this.st.updateTask, {
      ...p,
      final: FINAL_TASK_STATES.includes(e.state) ? 1 : 0,
      execMs: e.execMs ?? null,
    });
  }

  /** Records an actor's creation or state change. */
  recordActor(a: ActorRecord): void {
    const p = {
      actorId: a.actorId,
      className: a.className,
      name: a.name ?? null,
      state: a.state,
      nodeId: a.nodeId ?? null,
      detail: a.detail ?? null,
      ts: a.ts ?? Date.now(),
    };
    this.enqueue(this.st.upsertActor, p);
    this.enqueue(this.st.insertActorEvent, p);
  }

  /** Records an object's size, owner and location. */
  recordObject(o: ObjectRecord): void {
    this.enqueue(this.st.upsertObject, {
      objectId: o.objectId,
      size: o.size,
      ownerTaskId: o.ownerTaskId ?? null,
      location: o.location ?? null,
      ts: o.ts ?? Date.now(),
    });
  }

  /** Records a node joining, leaving, or another node event. Label values under secret-looking names are redacted. */
  recordNode(given: NodeRecord): void {
    const n = given.labels ? { ...given, labels: redactSecrets(given.labels).value } : given;
    const p = {
      nodeId: n.nodeId,
      backend: n.backend ?? null,
      ts: n.ts ?? Date.now(),
      event: n.event,
      resourcesJson: n.resources ? JSON.stringify(n.resources) : null,
      labelsJson: n.labels ? JSON.stringify(n.labels) : null,
      detail: n.detail ?? (n.event === 'join' ? JSON.stringify({ resources: n.resources, labels: n.labels }) : null),
    };
    if (n.event === 'join') this.enqueue(this.st.nodeJoin, p);
    else if (n.event === 'leave') this.enqueue(this.st.nodeLeave, p);
    this.enqueue(this.st.insertNodeEvent, p);
  }

  /**
   * Stores a task's result bytes: inline up to `inlineResultBytes`, else as a results file
   * written in the background (the bytes must not be changed until `close()` resolves).
   */
  recordResult(taskId: string, bytes: Uint8Array, opts: { contentType?: string } = {}): void {
    if (this.closed) return;
    const contentType = opts.contentType ?? 'v8';
    const ts = Date.now();
    if (bytes.byteLength <= (this.opts.inlineResultBytes ?? 64 * 1024)) {
      this.enqueue(this.st.upsertResult, {
        taskId,
        contentType,
        size: bytes.byteLength,
        inline: Buffer.from(bytes),
        file: null,
        ts,
      });
      return;
    }
    const fileName = resultFileName(taskId);
    const write = writeResultFile(this.paths.filesDir, fileName, bytes).then(
      () =>
        this.enqueue(this.st.upsertResult, {
          taskId,
          contentType,
          size: bytes.byteLength,
          inline: null,
          file: fileName,
          ts,
        }),
      (err: NodeJS.ErrnoException) => {
        this.stats.dropped += 1;
        this.report(writeFailure(join(this.paths.filesDir, fileName), err));
        this.recordTaskInfo(taskId, { resultNotStored: `${err.code ?? 'error'}: ${err.message}` });
      },
    );
    this.pendingFiles.add(write);
    void write.finally(() => this.pendingFiles.delete(write));
  }

  /** Appends a log line; output past `logCapBytes` per task (or node) is dropped after one note. */
  recordLog(l: LogRecord): void {
    const kept = this.logBudget.take(l.taskId, l.nodeId, l.text);
    if (kept === undefined) return;
    const base = {
      taskId: l.taskId ?? null,
      nodeId: l.nodeId ?? null,
      ts: l.ts ?? Date.now(),
      attempt: l.attempt ?? null,
    };
    if (kept.text.length > 0) this.enqueue(this.st.insertLog, { ...base, stream: l.stream, text: kept.text });
    if (kept.note) this.enqueue(this.st.insertLog, { ...base, stream: 'orrery', text: kept.note });
  }

  /** Sets small facts about a task (`jobId`, `queuePosition`, `costUsd`, `billableSeconds`...); secret-looking ones are redacted. */
  recordTaskInfo(taskId: string, facts: Readonly<Record<string, string | number | boolean | null>>): void {
    const ts = Date.now();
    for (const [key, value] of Object.entries(facts))
      this.enqueue(this.st.upsertTaskInfo, {
        taskId,
        key,
        value: JSON.stringify(isSecretKey(key) ? REDACTED : value),
        ts,
      });
  }

  /** Appends usage samples (head/usage-monitor.ts); members a sample lacks are stored as NULL. */
  recordUsage(samples: readonly NodeUsageSample[]): void {
    for (const s of samples)
      this.enqueue(this.st.insertUsage, {
        nodeId: s.nodeId,
        t: s.t,
        cpu: s.cpu ?? null,
        memUsedBytes: s.memUsedBytes ?? null,
        memTotalBytes: s.memTotalBytes ?? null,
        gpus: s.gpus ?? null,
        gpuUtil: s.gpuUtil ?? null,
        gpuMemUsedMb: s.gpuMemUsedMb ?? null,
        gpuMemTotalMb: s.gpuMemTotalMb ?? null,
        qpuUsed: s.qpuUsed ?? null,
        qpuTotal: s.qpuTotal ?? null,
        queued: s.queued ?? null,
        queuePosition: s.queuePosition ?? null,
      });
  }

  /** Records the remote job a task runs as, and writes it at once: a restarted head needs it to reattach. */
  recordRemoteJob(taskId: string, backend: string, remoteJobId: string): void {
    this.enqueue(this.st.insertRemoteJob, { taskId, backend, remoteJobId, ts: Date.now() });
    this.flush();
  }

  /** Records a driver's run (a job) as it is now: a later call for the same job replaces it. */
  recordJob(j: JobRow): void {
    this.enqueue(this.st.upsertJob, {
      jobId: j.jobId,
      script: j.script ?? null,
      pid: j.pid ?? null,
      startedAt: j.startedAt,
      endedAt: j.endedAt ?? null,
      status: j.status,
      exitCode: j.exitCode ?? null,
      error: j.error ?? null,
      output: j.output && j.output.length > 0 ? j.output.join('\n') : null,
    });
  }

  /** Appends metric values a job logged. */
  recordMetrics(points: readonly MetricPoint[]): void {
    for (const p of points) this.enqueue(this.st.insertMetric, { ...p });
  }

  /** Writes every queued record now, in one transaction. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0 || !this.db.open) return;
    const batch = this.queue;
    this.queue = [];
    try {
      this.db.transaction(() => {
        // A record SQLite refuses is dropped alone: the others of its batch (a task's final state among them) still land.
        for (const op of batch) {
          try {
            op();
            this.stats.written += 1;
          } catch (err) {
            if (isStorageFull(err)) throw err;
            this.stats.dropped += 1;
            this.report(writeFailure(this.paths.db, err));
          }
        }
      })();
    } catch (err) {
      this.stats.dropped += batch.length;
      this.report(writeFailure(this.paths.db, err));
    }
  }

  /** Finishes pending result files, flushes, marks the session ended, and closes the database. Idempotent. */
  async close(opts: { status?: Exclude<SessionStatus, 'running'> } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.pendingFiles.size > 0) await Promise.all([...this.pendingFiles]);
    this.flush();
    try {
      writeStoredMeta(this.db, { status: opts.status ?? 'finished', endedAt: Date.now() });
    } catch (err) {
      this.report(writeFailure(this.paths.db, err));
    }
    this.db.close();
  }

  private enqueue(stmt: Database.Statement, params: Record<string, unknown>): void {
    if (!this.db.open) return;
    this.queue.push(() => stmt.run(params));
    if (this.queue.length >= (this.opts.flushEvents ?? 500)) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.opts.flushIntervalMs ?? 50);
      this.timer.unref();
    }
  }

  private report(err: SessionError): void {
    if (this.reported.has(err.name)) return;
    this.reported.add(err.name);
    try {
      this.opts.onError?.(err);
    } catch {
      // A faulty handler must not break recording.
    }
  }
}

function isStorageFull(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT';
}

/** Disk-full conditions (SQLite's or the file system's) get their own error; anything else is a write error. */
function writeFailure(file: string, err: unknown): SessionError {
  const e = err as { code?: string; message: string };
  if (isStorageFull(err)) return new SessionDiskFullError(file, e.message);
  return new SessionWriteError(file, `${e.code ?? 'error'}: ${e.message}`);
}

function eventParams(taskId: string, e: TaskStateRecord): Record<string, unknown> {
  return {
    taskId,
    ts: e.ts ?? Date.now(),
    state: e.state,
    nodeId: e.nodeId ?? null,
    backend: e.backend ?? null,
    ruleIndex: e.ruleIndex ?? null,
    attempt: e.attempt ?? null,
    errorName: e.errorName ?? null,
    errorMessage: e.errorMessage ?? null,
  };
}

/** JSON of `v` when it serializes and is at most `max` characters; null otherwise. */
function smallJson(v: unknown, max = PARAMS_JSON_CHARS): string | null {
  if (v === undefined) return null;
  try {
    const s = JSON.stringify(v);
    return s !== undefined && s.length <= max ? s : null;
  } catch {
    return null;
  }
}
