/**
 * The session database schema and how a session file is opened. A session file carries
 * Orrery's `application_id` and its schema version in `user_version`; migrations run in order
 * when a session is opened for writing, never when it is only read (readers tolerate older
 * schemas, so viewing an old session never changes it).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SessionForeignFileError, SessionSchemaTooNewError, SessionUnreadableError } from './session-errors.ts';

/** `PRAGMA application_id` of every session file: "ORRY" in ASCII. */
export const APPLICATION_ID = 0x4f525259;

/** One schema step. `version` is the `user_version` after it ran. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/** Every schema step, oldest first. Never edit a released step; append a new one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'metadata, functions, tasks and their events, actors, objects, nodes, results, logs',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE functions (hash TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
        source TEXT NOT NULL, first_seen INTEGER NOT NULL);
      CREATE TABLE tasks (seq INTEGER PRIMARY KEY, task_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
        kind TEXT NOT NULL, variant TEXT, function_hash TEXT, actor_id TEXT, method TEXT,
        args_preview TEXT, params_json TEXT, parent_task_id TEXT, options_json TEXT,
        state TEXT NOT NULL, submitted_at INTEGER NOT NULL, started_at INTEGER, ended_at INTEGER,
        node_id TEXT, backend TEXT, rule_index INTEGER, attempt INTEGER NOT NULL DEFAULT 0,
        error_name TEXT, error_message TEXT);
      CREATE INDEX tasks_state ON tasks(state, seq);
      CREATE INDEX tasks_name ON tasks(name, seq);
      CREATE TABLE task_events (id INTEGER PRIMARY KEY, task_id TEXT NOT NULL, ts INTEGER NOT NULL,
        state TEXT NOT NULL, node_id TEXT, backend TEXT, rule_index INTEGER, attempt INTEGER,
        error_name TEXT, error_message TEXT);
      CREATE INDEX task_events_task ON task_events(task_id, id);
      CREATE TABLE actors (actor_id TEXT PRIMARY KEY, class_name TEXT NOT NULL, name TEXT,
        state TEXT NOT NULL, node_id TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
      CREATE TABLE actor_events (id INTEGER PRIMARY KEY, actor_id TEXT NOT NULL, ts INTEGER NOT NULL,
        state TEXT NOT NULL, node_id TEXT, detail TEXT);
      CREATE TABLE objects (object_id TEXT PRIMARY KEY, size INTEGER NOT NULL, owner_task_id TEXT,
        location TEXT, ts INTEGER NOT NULL);
      CREATE TABLE nodes (node_id TEXT PRIMARY KEY, backend TEXT, resources_json TEXT,
        labels_json TEXT, joined_at INTEGER, left_at INTEGER);
      CREATE TABLE node_events (id INTEGER PRIMARY KEY, node_id TEXT NOT NULL, ts INTEGER NOT NULL,
        event TEXT NOT NULL, detail TEXT);
      CREATE TABLE results (task_id TEXT PRIMARY KEY, content_type TEXT NOT NULL,
        size INTEGER NOT NULL, inline BLOB, file TEXT, ts INTEGER NOT NULL);
      CREATE TABLE logs (id INTEGER PRIMARY KEY, task_id TEXT, node_id TEXT, stream TEXT NOT NULL,
        ts INTEGER NOT NULL, text TEXT NOT NULL);
      CREATE INDEX logs_task ON logs(task_id, id);
      CREATE INDEX logs_node ON logs(node_id, id);`,
  },
  {
    version: 2,
    description: 'per-task facts (cost, queue position), remote job ids for reattaching, worker execution time',
    sql: `
      ALTER TABLE tasks ADD COLUMN exec_ms REAL;
      CREATE TABLE task_info (task_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        ts INTEGER NOT NULL, PRIMARY KEY (task_id, key)) WITHOUT ROWID;
      CREATE TABLE remote_jobs (task_id TEXT NOT NULL, backend TEXT NOT NULL,
        remote_job_id TEXT NOT NULL, ts INTEGER NOT NULL,
        PRIMARY KEY (task_id, backend, remote_job_id)) WITHOUT ROWID;`,
  },
  {
    version: 3,
    description: "drivers' runs (jobs) with their output, the metrics they logged, each task's job",
    sql: `
      ALTER TABLE tasks ADD COLUMN job_id TEXT;
      CREATE TABLE jobs (job_id TEXT PRIMARY KEY, script TEXT, pid INTEGER, started_at INTEGER NOT NULL,
        ended_at INTEGER, status TEXT NOT NULL, exit_code INTEGER, error TEXT, output TEXT);
      CREATE TABLE metrics (id INTEGER PRIMARY KEY, job_id TEXT NOT NULL, step REAL NOT NULL,
        key TEXT NOT NULL, value REAL NOT NULL, ts INTEGER NOT NULL);
      CREATE INDEX metrics_job ON metrics(job_id, key, step);`,
  },
  {
    version: 4,
    description:
      'usage history per node (CPU, memory, GPUs, QPU slots, queue positions); task facts by key (cost sums); the attempt of each log line',
    sql: `
      CREATE TABLE usage (node_id TEXT NOT NULL, ts INTEGER NOT NULL, cpu REAL, mem_used REAL, mem_total REAL,
        gpus INTEGER, gpu_util REAL, gpu_mem_used REAL, gpu_mem_total REAL, qpu_used REAL, qpu_total REAL,
        queued INTEGER, queue_position INTEGER);
      CREATE INDEX usage_ts ON usage(ts);
      CREATE INDEX task_info_key ON task_info(key);
      ALTER TABLE logs ADD COLUMN attempt INTEGER;`,
  },
];

/** The schema version this Orrery writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** How a session file is opened: `create` makes a new file, `write` continues one, `read` only reads. */
export type OpenMode = 'create' | 'write' | 'read';

const SQLITE_MAGIC = 'SQLite format 3\0';

/** Checks the first bytes before SQLite touches the file, so a foreign file is never modified. */
function checkHeader(file: string): void {
  const size = statSync(file).size;
  if (size === 0) throw new SessionUnreadableError(file, 'the file is empty');
  const head = Buffer.alloc(16);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (head.toString('latin1') !== SQLITE_MAGIC)
    throw new SessionUnreadableError(file, 'it does not start with the SQLite header');
}

/** Turns SQLite's "not a database"/"corrupt" failures into a SessionUnreadableError. */
function asSessionError(file: string, err: unknown): unknown {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'))
    return new SessionUnreadableError(file, (err as Error).message);
  return err;
}

/** Verifies the application id and schema version; returns the version found. */
function checkIdentity(db: Database.Database, file: string): number {
  const appId = db.pragma('application_id', { simple: true }) as number;
  if (appId !== APPLICATION_ID) throw new SessionForeignFileError(file, appId);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) throw new SessionSchemaTooNewError(file, version, SCHEMA_VERSION);
  return version;
}

/** Runs the migrations above `from`, each in its own transaction with its version bump. */
export function migrate(db: Database.Database, from: number, to = SCHEMA_VERSION): void {
  for (const m of MIGRATIONS) {
    if (m.version <= from || m.version > to) continue;
    db.transaction(() => {
      // The id goes in with the first tables, so a crash mid-creation leaves no half-claimed file.
      if (from === 0 && m.version === 1) db.pragma(`application_id = ${APPLICATION_ID}`);
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}

/** An open session database and the schema version it has. */
export interface OpenedSession {
  readonly db: Database.Database;
  readonly schemaVersion: number;
}

/**
 * Opens a session file. `create` expects no file; `write` and `read` expect one and check that
 * it is an Orrery session of a known schema before anything is written.
 * Throws SessionUnreadableError, SessionForeignFileError or SessionSchemaTooNewError.
 */
export function openSessionDb(file: string, mode: OpenMode): OpenedSession {
  if (mode !== 'create') checkHeader(file);
  let db: Database.Database | undefined;
  try {
    db = new Database(
      file,
      mode === 'read' ? { readonly: true, fileMustExist: true } : { fileMustExist: mode === 'write' },
    );
    if (mode === 'create') {
      db.pragma('journal_mode = WAL');
      migrate(db, 0);
    }
    const found = checkIdentity(db, file);
    // Parsing the schema reads page 1 in full, which catches a damaged file at open, not mid-listing.
    const tables = (
      db
        .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'tasks')")
        .get() as { n: number }
    ).n;
    if (found === 0 || tables !== 2)
      throw new SessionUnreadableError(file, "it carries Orrery's id but its session tables are missing");
    if (mode === 'read') return { db, schemaVersion: found };
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a killed process loses nothing committed; only power loss may drop the last commits.
    db.pragma('synchronous = NORMAL');
    migrate(db, found);
    return { db, schemaVersion: SCHEMA_VERSION };
  } catch (err) {
    db?.close();
    throw asSessionError(file, err);
  }
}
