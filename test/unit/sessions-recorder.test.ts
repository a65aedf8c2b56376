import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { SessionExistsError, SessionStore, type SessionError } from '../../orchestrator/sessions/index.ts';

function tempStore(): { store: SessionStore; dir: string; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'orrery-sessions-'));
  const dir = join(root, 'sessions');
  return { store: new SessionStore({ dir }), dir, done: () => rmSync(root, { recursive: true, force: true }) };
}

test('records a session and reads every kind of record back', async () => {
  const { store, dir, done } = tempStore();
  try {
    const errors: SessionError[] = [];
    const rec = store.record('run-1', {
      orreryVersion: '0.1.0',
      onError: (e) => errors.push(e),
      config: { backends: [{ name: 'ibm', kind: 'ibm-quantum', instanceCrn: 'crn:1', apiKeySecret: 'ibm-key' }] },
      placementRules: [{ match: { name: 'vqe' }, backend: 'ibm' }],
    });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    rec.recordFunction({ hash: 'h1', name: 'square', kind: 'function', source: '(x) => x * x' });
    rec.recordFunction({ hash: 'h1', name: 'square', kind: 'function', source: '(x) => x * x' });
    for (let i = 0; i < 5; i++) {
      rec.recordTaskSubmitted({
        taskId: `t${i}`,
        name: 'square',
        kind: 'task',
        functionHash: 'h1',
        argsPreview: `${i}`,
        params: [i],
        options: { numCpus: 1 },
        ts: 1000 + i,
      });
      rec.recordTaskState(`t${i}`, {
        state: 'RUNNING',
        ts: 2000 + i,
        nodeId: 'n1',
        backend: 'local',
        ruleIndex: 0,
        attempt: 0,
      });
    }
    rec.recordTaskState('t0', { state: 'FINISHED', ts: 2100, execMs: 12.5 });
    rec.recordTaskState('t1', { state: 'FAILED', ts: 2200, errorName: 'TaskError', errorMessage: 'boom' });
    rec.recordTaskSubmitted({
      taskId: 'long',
      name: 'big',
      kind: 'task',
      argsPreview: 'x'.repeat(500),
      params: 'y'.repeat(10_000),
    });
    const small = serialize({ value: 42 });
    const large = new Uint8Array(200_000).map((_, i) => (i * 7) % 256);
    rec.recordResult('t0', small);
    rec.recordResult('t2', large, { contentType: 'Uint8Array' });
    rec.recordLog({ taskId: 't0', stream: 'stdout', text: 'hello\n' });
    rec.recordLog({ nodeId: 'n1', stream: 'stderr', text: 'node says hi\n' });
    rec.recordTaskInfo('t2', { jobId: 'slurm-17', costUsd: 0.25, billableSeconds: 30 });
    rec.recordTaskInfo('t3', { costUsd: 1.5 });
    rec.recordRemoteJob('t2', 'slurm', '17');
    rec.recordRemoteJob('t0', 'slurm', '16');
    rec.recordActor({ actorId: 'a1', className: 'Counter', state: 'PENDING_CREATION' });
    rec.recordActor({ actorId: 'a1', className: 'Counter', state: 'ALIVE', nodeId: 'n1' });
    rec.recordObject({ objectId: 'o1', size: 123, ownerTaskId: 't0', location: 'n1' });
    rec.recordNode({ nodeId: 'n1', event: 'join', backend: 'local', resources: { CPU: 4 }, labels: { zone: 'a' } });
    rec.recordNode({ nodeId: 'n1', event: 'leave' });
    await rec.close();
    assert.deepEqual(errors, []);

    const r = store.open('run-1');
    const m = r.metadata();
    assert.equal(m.status, 'finished');
    assert.equal(m.orreryVersion, '0.1.0');
    assert.ok(m.endedAt !== null && m.endedAt >= m.createdAt);
    assert.deepEqual(m.config, {
      backends: [{ name: 'ibm', kind: 'ibm-quantum', instanceCrn: 'crn:1', apiKeySecret: 'ibm-key' }],
    });
    assert.deepEqual(m.placementRules, [{ match: { name: 'vqe' }, backend: 'ibm' }]);
    assert.deepEqual(r.functions(), [{ hash: 'h1', name: 'square', kind: 'function' }]);
    assert.equal(r.functionCode('h1')?.source, '(x) => x * x');

    assert.deepEqual(
      r.tasks().map((t) => t.taskId),
      ['t0', 't1', 't2', 't3', 't4', 'long'],
    );
    assert.deepEqual(
      r.tasks({ state: 'RUNNING' }).map((t) => t.taskId),
      ['t2', 't3', 't4'],
    );
    assert.deepEqual(
      r.tasks({ name: 'square', limit: 2, offset: 1 }).map((t) => t.taskId),
      ['t1', 't2'],
    );
    assert.deepEqual(
      r.tasks({ backend: 'local', state: 'FAILED' }).map((t) => t.taskId),
      ['t1'],
    );
    const t0 = r.task('t0')!;
    assert.equal(t0.state, 'FINISHED');
    assert.equal(t0.startedAt, 2000);
    assert.equal(t0.endedAt, 2100);
    assert.equal(t0.nodeId, 'n1');
    assert.equal(t0.execMs, 12.5);
    assert.equal(t0.paramsJson, '[0]');
    assert.equal(r.task('t1')!.errorMessage, 'boom');
    const longTask = r.task('long')!;
    assert.equal(longTask.argsPreview!.length, 200);
    assert.equal(longTask.paramsJson, null, 'params over 4 KiB are not stored');
    assert.deepEqual(
      r.taskEvents('t1').map((e) => e.state),
      ['PENDING_ARGS_AVAIL', 'RUNNING', 'FAILED'],
    );
    assert.equal(r.taskEvents('t1')[2]!.errorName, 'TaskError');

    const res0 = r.result('t0')!;
    assert.equal(res0.contentType, 'v8');
    assert.equal(res0.file, null);
    assert.deepEqual(Buffer.from(res0.bytes), Buffer.from(small));
    const res2 = r.result('t2')!;
    assert.equal(res2.file, join(dir, 'run-1.files', 't2'));
    assert.deepEqual(Buffer.from(res2.bytes), Buffer.from(large));
    assert.deepEqual(readdirSync(join(dir, 'run-1.files')), ['t2'], 'no temp files are left behind');
    assert.equal(r.result('t4'), undefined);

    assert.deepEqual(
      r.logs({ taskId: 't0' }).map((l) => l.text),
      ['hello\n'],
    );
    assert.deepEqual(
      r.logs({ nodeId: 'n1' }).map((l) => [l.stream, l.text]),
      [['stderr', 'node says hi\n']],
    );
    assert.deepEqual(r.taskInfo('t2'), { jobId: 'slurm-17', costUsd: 0.25, billableSeconds: 30 });
    const s = r.summary();
    assert.equal(s.total, 6);
    assert.deepEqual(s.byState, { FINISHED: 1, FAILED: 1, RUNNING: 3, PENDING_ARGS_AVAIL: 1 });
    assert.deepEqual(s.byName.square, { FINISHED: 1, FAILED: 1, RUNNING: 3 });
    assert.equal(s.totalCostUsd, 1.75);
    assert.equal(s.totalBillableSeconds, 30);
    assert.deepEqual(
      r.unfinishedTasks().map((t) => t.taskId),
      ['t2', 't3', 't4', 'long'],
    );
    assert.deepEqual(
      r.remoteJobs().map((j) => [j.taskId, j.backend, j.remoteJobId]),
      [['t2', 'slurm', '17']],
      't0 finished, so it is not reattached',
    );
    assert.deepEqual(
      r.actors().map((a) => [a.actorId, a.state, a.nodeId]),
      [['a1', 'ALIVE', 'n1']],
    );
    assert.deepEqual(
      r.objects().map((o) => [o.objectId, o.size, o.ownerTaskId]),
      [['o1', 123, 't0']],
    );
    const nodes = r.nodes();
    assert.equal(nodes.length, 1);
    assert.deepEqual(nodes[0]!.resources, { CPU: 4 });
    assert.deepEqual(nodes[0]!.labels, { zone: 'a' });
    assert.ok(typeof nodes[0]!.leftAt === 'number');
    r.close();
  } finally {
    done();
  }
});

test('records reach the database by the flush timer and by batch size, without close', async () => {
  const { store, done } = tempStore();
  try {
    const rec = store.record('batched', { orreryVersion: 't', flushIntervalMs: 30, flushEvents: 10 });
    const r = store.open('batched');
    for (let i = 0; i < 9; i++) rec.recordLog({ nodeId: 'n', stream: 'stdout', text: `${i}` });
    assert.equal(r.logs({ nodeId: 'n' }).length, 0, 'nine records wait for the timer');
    rec.recordLog({ nodeId: 'n', stream: 'stdout', text: '9' });
    assert.equal(r.logs({ nodeId: 'n' }).length, 10, 'the tenth record forces a flush');
    rec.recordLog({ nodeId: 'n', stream: 'stdout', text: '10' });
    await new Promise((res) => setTimeout(res, 120));
    assert.equal(r.logs({ nodeId: 'n' }).length, 11, 'the timer flushed the rest');
    assert.equal(r.metadata().status, 'running');
    assert.equal(rec.stats.written, 11);
    r.close();
    await rec.close();
  } finally {
    done();
  }
});

test('logs are capped per task with one truncation note', async () => {
  const { store, done } = tempStore();
  try {
    const rec = store.record('logs', { orreryVersion: 't', logCapBytes: 100 });
    for (let i = 0; i < 10; i++) rec.recordLog({ taskId: 'a', stream: 'stdout', text: '0123456789abcdef' });
    rec.recordLog({ taskId: 'b', stream: 'stdout', text: 'other task' });
    await rec.close();
    const r = store.open('logs');
    const lines = r.logs({ taskId: 'a' });
    const kept = lines
      .filter((l) => l.stream === 'stdout')
      .map((l) => l.text)
      .join('');
    assert.equal(Buffer.byteLength(kept), 100);
    assert.equal(kept, '0123456789abcdef'.repeat(7).slice(0, 100));
    const notes = lines.filter((l) => l.stream === 'orrery');
    assert.equal(notes.length, 1);
    assert.match(notes[0]!.text, /truncated at 100 bytes/);
    assert.deepEqual(
      r.logs({ taskId: 'b' }).map((l) => l.text),
      ['other task'],
    );
    r.close();
  } finally {
    done();
  }
});

test('session names are validated and an existing session needs resume', async () => {
  const { store, dir, done } = tempStore();
  try {
    for (const bad of ['', 'a/b', '../x', 'x'.repeat(65), 'sp ace', '..']) {
      assert.throws(
        () => store.record(bad, { orreryVersion: 't' }),
        (e: unknown) => e instanceof TypeError && /session name/.test((e as Error).message),
        bad,
      );
    }
    assert.throws(() => store.open('a/b'), TypeError);
    const rec = store.record('ok.name_1-2', { orreryVersion: 't' });
    rec.recordTaskSubmitted({ taskId: 'x', name: 'f', kind: 'task' });
    await rec.close();
    assert.throws(() => store.record('ok.name_1-2', { orreryVersion: 't' }), SessionExistsError);
    const again = store.record('ok.name_1-2', { orreryVersion: 't', resume: true });
    again.recordTaskState('x', { state: 'FINISHED' });
    await again.close();
    const r = store.open('ok.name_1-2');
    assert.equal(r.task('x')!.state, 'FINISHED');
    r.close();
    assert.ok(existsSync(join(dir, 'ok.name_1-2.db')));
  } finally {
    done();
  }
});
