/** What a session records for monitoring: usage samples (schema 4), node logs, reported cost; and older schemas read as they are. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SessionReader, SessionStore } from '../../orchestrator/sessions/index.ts';
import { migrate } from '../../orchestrator/sessions/schema.ts';

function tempStore(): { store: SessionStore; dir: string; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'orrery-sessions-mon-'));
  const dir = join(root, 'sessions');
  return { store: new SessionStore({ dir }), dir, done: () => rmSync(root, { recursive: true, force: true }) };
}

test('usage samples, node logs and cost are recorded and read back', async () => {
  const { store, done } = tempStore();
  try {
    const rec = store.record('mon', { orreryVersion: 't' });
    rec.recordUsage([
      {
        nodeId: 'n1',
        t: 1000,
        cpu: 0.5,
        memUsedBytes: 1,
        memTotalBytes: 2,
        gpus: 2,
        gpuUtil: 50,
        gpuMemUsedMb: 3,
        gpuMemTotalMb: 4,
      },
      { nodeId: 'q1', t: 1000, qpuUsed: 1, qpuTotal: 5, queued: 1, queuePosition: 7 },
      { nodeId: 'n1', t: 3000, cpu: 0.25, memUsedBytes: 1, memTotalBytes: 2 },
    ]);
    for (const [id, backend, usd] of [
      ['t1', 'lab', 0.25],
      ['t2', 'lab', 0.5],
      ['t3', 'braket', 1.5],
    ] as const) {
      rec.recordTaskSubmitted({ taskId: id, name: 'x', kind: 'task', params: [] });
      rec.recordTaskState(id, { state: 'FINISHED', ts: 2, nodeId: 'n1', backend });
      rec.recordTaskInfo(id, { costUsd: usd });
    }
    rec.recordLog({ taskId: 't1', nodeId: 'n1', stream: 'stdout', text: 'from t1\n', attempt: 0 });
    rec.recordLog({ taskId: 't1', nodeId: 'n1', stream: 'stderr', text: 'retrying\n', attempt: 1 });
    rec.recordLog({ nodeId: 'n1', stream: 'stderr', text: 'from the agent\n' });
    rec.recordLog({ nodeId: 'n2', stream: 'stdout', text: 'elsewhere\n' });
    await rec.close();
    const r = store.open('mon');
    try {
      assert.deepEqual(r.usage(), [
        {
          nodeId: 'n1',
          t: 1000,
          cpu: 0.5,
          memUsedBytes: 1,
          memTotalBytes: 2,
          gpus: 2,
          gpuUtil: 50,
          gpuMemUsedMb: 3,
          gpuMemTotalMb: 4,
        },
        { nodeId: 'q1', t: 1000, qpuUsed: 1, qpuTotal: 5, queued: 1, queuePosition: 7 },
        { nodeId: 'n1', t: 3000, cpu: 0.25, memUsedBytes: 1, memTotalBytes: 2 },
      ]);
      assert.equal(r.usage(2000).length, 1);
      assert.deepEqual(
        r.nodeLogs('n1').map((l) => [l.taskId, l.stream, l.text]),
        [
          ['t1', 'stdout', 'from t1\n'],
          ['t1', 'stderr', 'retrying\n'],
          [undefined, 'stderr', 'from the agent\n'],
        ],
      );
      // Each line keeps the attempt that printed it, so a replay separates a retried task's output.
      assert.deepEqual(
        r.logs({ taskId: 't1' }).map((l) => [l.attempt, l.text]),
        [
          [0, 'from t1\n'],
          [1, 'retrying\n'],
        ],
      );
      assert.deepEqual(r.cost(), {
        totalUsd: 2.25,
        tasks: 3,
        byBackend: [
          { backend: 'braket', usd: 1.5, tasks: 1 },
          { backend: 'lab', usd: 0.75, tasks: 2 },
        ],
      });
    } finally {
      r.close();
    }
    assert.equal(store.list().find((s) => s.name === 'mon')?.costUsd, 2.25);
    assert.equal(store.show('mon').cost.totalUsd, 2.25);
  } finally {
    done();
  }
});

test('a schema-2 session reads with no usage, and its task output is found through the task node', () => {
  const { store, dir, done } = tempStore();
  try {
    const rec = store.record('seed', { orreryVersion: 't' });
    void rec.close();
    const file = join(dir, 'old.db');
    const db = new Database(file);
    migrate(db, 0, 2);
    db.prepare("INSERT INTO meta (key, value) VALUES ('name', '\"old\"')").run();
    db.prepare(
      "INSERT INTO tasks (task_id, name, kind, state, submitted_at, node_id, backend) VALUES ('t1', 'x', 'task', 'FINISHED', 1, 'n1', 'lab')",
    ).run();
    db.prepare(
      "INSERT INTO logs (task_id, node_id, stream, ts, text) VALUES ('t1', NULL, 'stdout', 1, 'old line')",
    ).run();
    db.prepare("INSERT INTO task_info (task_id, key, value, ts) VALUES ('t1', 'costUsd', '0.5', 1)").run();
    db.close();
    const r = SessionReader.open(file);
    try {
      assert.equal(r.schemaVersion, 2);
      assert.deepEqual(r.usage(), []);
      assert.deepEqual(
        r.nodeLogs('n1').map((l) => l.text),
        ['old line'],
      );
      assert.equal(r.cost().totalUsd, 0.5);
    } finally {
      r.close();
    }
  } finally {
    done();
  }
});

test('a long session is read thinned: every k-th sample of each node, its newest kept', async () => {
  const { store, done } = tempStore();
  try {
    const rec = store.record('long', { orreryVersion: 't' });
    for (let i = 0; i < 1000; i++)
      rec.recordUsage([
        { nodeId: 'a', t: i * 2000, cpu: 0.5 },
        { nodeId: 'b', t: i * 2000 + 1, cpu: 0.25 },
      ]);
    await rec.close();
    const r = store.open('long');
    try {
      assert.equal(r.usage().length, 2000);
      const thin = r.usage(0, 200);
      assert.ok(thin.length <= 200 && thin.length >= 180, `${thin.length}`);
      assert.equal(thin.filter((s) => s.nodeId === 'a').at(-1)?.t, 999 * 2000);
      assert.equal(thin.filter((s) => s.nodeId === 'b').at(-1)?.t, 999 * 2000 + 1);
    } finally {
      r.close();
    }
  } finally {
    done();
  }
});
