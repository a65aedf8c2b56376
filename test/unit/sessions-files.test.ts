/** Session files that are not ours, damaged, from another schema version. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  APPLICATION_ID,
  SCHEMA_VERSION,
  SessionForeignFileError,
  SessionSchemaTooNewError,
  SessionStore,
  SessionUnreadableError,
} from '../../orchestrator/sessions/index.ts';

function tempDir(): { dir: string; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'orrery-sessions-'));
  const dir = join(root, 'sessions');
  mkdirSync(dir, { mode: 0o700 });
  return { dir, done: () => rmSync(root, { recursive: true, force: true }) };
}

/** Opens, resumes, lists: each must fail with `cls`, name the file, and leave it byte-for-byte unchanged. */
function assertRefusedUntouched(
  store: SessionStore,
  name: string,
  cls: new (...a: never[]) => Error,
  says: RegExp,
  sideFiles = false,
): void {
  const file = join(store.dir, `${name}.db`);
  const before = readFileSync(file);
  const check = (e: unknown): boolean =>
    e instanceof cls && (e as Error).message.includes(file) && says.test((e as Error).message);
  assert.throws(() => store.open(name), check);
  assert.throws(() => store.show(name), check);
  assert.throws(() => store.record(name, { orreryVersion: 't', resume: true }), check);
  assert.throws(() => store.record(name, { orreryVersion: 't' }), /already exists/);
  const listed = store.list().find((l) => l.name === name)!;
  assert.equal(listed.status, 'unreadable');
  assert.match(listed.error!, says);
  assert.deepEqual(readFileSync(file), before, 'the file was not modified');
  // WAL-mode sessions of ours may get -wal/-shm while open; a foreign or damaged file gets none.
  if (!sideFiles) assert.ok(!existsSync(`${file}-wal`) && !existsSync(`${file}-journal`), 'no side files were created');
}

test('a file of random bytes is reported as unreadable and left alone', async () => {
  const { dir, done } = tempDir();
  try {
    writeFileSync(join(dir, 'noise.db'), randomBytes(8192));
    writeFileSync(join(dir, 'empty.db'), '');
    const store = new SessionStore({ dir });
    assertRefusedUntouched(store, 'noise', SessionUnreadableError, /not a readable Orrery session.*left untouched/);
    assertRefusedUntouched(store, 'empty', SessionUnreadableError, /empty/);
    // A real session whose first page is damaged behind an intact header.
    await store.record('torn', { orreryVersion: 't' }).close();
    const bytes = readFileSync(join(dir, 'torn.db'));
    bytes.fill(0xab, 100, 4096);
    writeFileSync(join(dir, 'torn.db'), bytes);
    assertRefusedUntouched(store, 'torn', SessionUnreadableError, /not a readable Orrery session/, true);
    store.delete('noise');
    assert.ok(!existsSync(join(dir, 'noise.db')), 'a damaged session can be deleted on request');
  } finally {
    done();
  }
});

test('an SQLite file that Orrery did not make is refused and never deleted', () => {
  const { dir, done } = tempDir();
  try {
    const plain = new Database(join(dir, 'photos.db'));
    plain.exec("CREATE TABLE photo (id INTEGER PRIMARY KEY, path TEXT); INSERT INTO photo (path) VALUES ('a.jpg')");
    plain.close();
    const other = new Database(join(dir, 'other-app.db'));
    other.pragma('application_id = 1234');
    other.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)');
    other.close();
    const store = new SessionStore({ dir });
    assertRefusedUntouched(store, 'photos', SessionForeignFileError, /did not make \(application_id 0\)/);
    assertRefusedUntouched(store, 'other-app', SessionForeignFileError, /application_id 1234/);
    assert.throws(() => store.delete('photos'), SessionForeignFileError);
    assert.ok(existsSync(join(dir, 'photos.db')));
  } finally {
    done();
  }
});

test('a session from a newer schema asks for an upgrade', async () => {
  const { dir, done } = tempDir();
  try {
    const store = new SessionStore({ dir });
    await store.record('future', { orreryVersion: '9.0.0' }).close();
    const db = new Database(join(dir, 'future.db'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assertRefusedUntouched(
      store,
      'future',
      SessionSchemaTooNewError,
      new RegExp(`made by a newer Orrery \\(session schema v${SCHEMA_VERSION + 1}.*upgrade Orrery`),
      true,
    );
  } finally {
    done();
  }
});

/** Schema v1 as Orrery 0.1 wrote it, typed out here so later edits to the migrations cannot hide a break. */
const V1_SQL = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE functions (hash TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, first_seen INTEGER NOT NULL);
  CREATE TABLE tasks (seq INTEGER PRIMARY KEY, task_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, kind TEXT NOT NULL,
    variant TEXT, function_hash TEXT, actor_id TEXT, method TEXT, args_preview TEXT, params_json TEXT, parent_task_id TEXT,
    options_json TEXT, state TEXT NOT NULL, submitted_at INTEGER NOT NULL, started_at INTEGER, ended_at INTEGER, node_id TEXT,
    backend TEXT, rule_index INTEGER, attempt INTEGER NOT NULL DEFAULT 0, error_name TEXT, error_message TEXT);
  CREATE INDEX tasks_state ON tasks(state, seq);
  CREATE INDEX tasks_name ON tasks(name, seq);
  CREATE TABLE task_events (id INTEGER PRIMARY KEY, task_id TEXT NOT NULL, ts INTEGER NOT NULL, state TEXT NOT NULL,
    node_id TEXT, backend TEXT, rule_index INTEGER, attempt INTEGER, error_name TEXT, error_message TEXT);
  CREATE INDEX task_events_task ON task_events(task_id, id);
  CREATE TABLE actors (actor_id TEXT PRIMARY KEY, class_name TEXT NOT NULL, name TEXT, state TEXT NOT NULL, node_id TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
  CREATE TABLE actor_events (id INTEGER PRIMARY KEY, actor_id TEXT NOT NULL, ts INTEGER NOT NULL, state TEXT NOT NULL, node_id TEXT, detail TEXT);
  CREATE TABLE objects (object_id TEXT PRIMARY KEY, size INTEGER NOT NULL, owner_task_id TEXT, location TEXT, ts INTEGER NOT NULL);
  CREATE TABLE nodes (node_id TEXT PRIMARY KEY, backend TEXT, resources_json TEXT, labels_json TEXT, joined_at INTEGER, left_at INTEGER);
  CREATE TABLE node_events (id INTEGER PRIMARY KEY, node_id TEXT NOT NULL, ts INTEGER NOT NULL, event TEXT NOT NULL, detail TEXT);
  CREATE TABLE results (task_id TEXT PRIMARY KEY, content_type TEXT NOT NULL, size INTEGER NOT NULL, inline BLOB, file TEXT, ts INTEGER NOT NULL);
  CREATE TABLE logs (id INTEGER PRIMARY KEY, task_id TEXT, node_id TEXT, stream TEXT NOT NULL, ts INTEGER NOT NULL, text TEXT NOT NULL);
  CREATE INDEX logs_task ON logs(task_id, id);
  CREATE INDEX logs_node ON logs(node_id, id);`;

test('a v1 session is read as it is and upgraded, data kept, when a head resumes it', async () => {
  const { dir, done } = tempDir();
  try {
    const file = join(dir, 'old.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.exec(V1_SQL);
    db.pragma('user_version = 1');
    const meta = {
      name: 'old',
      createdAt: 1000,
      endedAt: 2000,
      status: 'finished',
      orreryVersion: '0.0.9',
      pid: 1,
      hostname: 'h',
      config: {},
      placementRules: [],
    };
    for (const [k, v] of Object.entries(meta)) db.prepare('INSERT INTO meta VALUES (?, ?)').run(k, JSON.stringify(v));
    db.prepare(
      "INSERT INTO tasks (task_id, name, kind, state, submitted_at, started_at, ended_at) VALUES ('t1', 'f', 'task', 'FINISHED', 1000, 1100, 1500)",
    ).run();
    db.prepare("INSERT INTO results VALUES ('t1', 'json', 2, CAST('42' AS BLOB), NULL, 1500)").run();
    db.prepare("INSERT INTO logs (task_id, stream, ts, text) VALUES ('t1', 'stdout', 1200, 'old log')").run();
    db.close();

    const store = new SessionStore({ dir });
    const r1 = store.open('old');
    assert.equal(r1.schemaVersion, 1);
    assert.equal(r1.task('t1')!.execMs, null);
    assert.deepEqual(r1.taskInfo('t1'), {});
    assert.deepEqual(r1.remoteJobs(), []);
    assert.equal(r1.summary().totalCostUsd, 0);
    r1.close();
    const ro = new Database(file, { readonly: true });
    assert.equal(ro.pragma('user_version', { simple: true }), 1, 'reading does not migrate');
    ro.close();

    const rec = store.record('old', { orreryVersion: '0.1.0', resume: true });
    rec.recordTaskSubmitted({ taskId: 't2', name: 'f', kind: 'task' });
    rec.recordTaskState('t2', { state: 'RUNNING', execMs: 3 });
    rec.recordTaskInfo('t2', { costUsd: 0.5 });
    rec.recordRemoteJob('t2', 'sagemaker', 'job-2');
    await rec.close();
    const up = new Database(file, { readonly: true });
    assert.equal(up.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    up.close();
    const r2 = store.open('old');
    assert.equal(r2.schemaVersion, SCHEMA_VERSION);
    assert.equal(r2.metadata().createdAt, 1000, 'creation time survives the upgrade');
    assert.equal(r2.metadata().orreryVersion, '0.1.0');
    assert.deepEqual(
      r2.tasks().map((t) => [t.taskId, t.state]),
      [
        ['t1', 'FINISHED'],
        ['t2', 'RUNNING'],
      ],
    );
    assert.equal(Buffer.from(r2.result('t1')!.bytes).toString(), '42');
    assert.deepEqual(
      r2.logs({ taskId: 't1' }).map((l) => l.text),
      ['old log'],
    );
    assert.deepEqual(r2.taskInfo('t2'), { costUsd: 0.5 });
    assert.deepEqual(
      r2.remoteJobs().map((j) => j.remoteJobId),
      ['job-2'],
    );
    r2.close();
  } finally {
    done();
  }
});
