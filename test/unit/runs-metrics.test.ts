/**
 * Runs and metrics (issue 17 item 1): `log()` checks what it is given and steps on its own; the
 * head's Jobs keeps each driver's run (script, output, status) and its metric series; a session
 * records both and reads them back.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log } from '../../orchestrator/api/metrics-log.ts';
import { installRuntime, type CoreRuntime } from '../../orchestrator/api/runtime.ts';
import { Head } from '../../orchestrator/head/head.ts';
import { Jobs } from '../../orchestrator/head/jobs.ts';
import { startSession } from '../../orchestrator/head/session-recording.ts';
import { SessionStore } from '../../orchestrator/sessions/index.ts';
import type { ClientRequest } from '../../orchestrator/protocol/messages.ts';
import type { JobRow, MetricPoint, TaskState, TaskView } from '../../orchestrator/protocol/state-rows.ts';

/** A runtime that records what the API posts. */
function recordingRuntime(): { rt: CoreRuntime; posted: ClientRequest[] } {
  const posted: ClientRequest[] = [];
  const rt: CoreRuntime = {
    post: (req) => void posted.push(req),
    call: () => Promise.reject(new Error('not used')),
    context: () => ({
      jobId: 'j',
      taskId: 't',
      nodeId: 'n',
      backend: 'driver',
      assignedResources: {},
      namespace: 'ns',
    }),
    sharedPayloads: false,
    sentCode: new Set(),
    shutdown: async () => {},
  };
  return { rt, posted };
}

const points = (posted: ClientRequest[]) =>
  posted.flatMap((r) => (r.op === 'log-metrics' ? r.points.map((p) => [p.key, p.value, p.step]) : []));

test('log() takes the step from the metrics or the option, and counts on from the last one', () => {
  const { rt, posted } = recordingRuntime();
  installRuntime(rt);
  try {
    log({ energy: -1.1, step: 7 });
    log({ energy: -1.12 });
    log(new Map([['energy', -1.13]]), { step: 20 });
    log({ loss: 0.5, energy: -1.135 });
    log({ ['__proto__']: 3 });
    assert.deepEqual(points(posted), [
      ['energy', -1.1, 7],
      ['energy', -1.12, 8],
      ['energy', -1.13, 20],
      ['loss', 0.5, 21],
      ['energy', -1.135, 21],
      ['__proto__', 3, 22],
    ]);
  } finally {
    installRuntime(undefined);
  }
});

test('log() refuses anything but finite numbers under names, with one clear TypeError', () => {
  const { rt, posted } = recordingRuntime();
  installRuntime(rt);
  try {
    const bad: [unknown, unknown, RegExp][] = [
      [{ energy: 'low' }, undefined, /metric "energy" must be a finite number \(got the string "low"\)/],
      [{ energy: Number.NaN }, undefined, /metric "energy" must be a finite number \(got NaN\)/],
      [{ energy: Infinity }, undefined, /finite number/],
      [{ energy: true }, undefined, /got boolean/],
      [{ energy: -1 }, { step: '3' }, /step must be a finite number \(got the string "3"\)/],
      [{ energy: -1, step: 2 }, { step: 3 }, /step is given twice/],
      [{ step: 2 }, undefined, /at least one metric besides step/],
      [{}, undefined, /at least one metric/],
      [[1, 2], undefined, /metrics must be an object of names to numbers.*got an array/],
      [null, undefined, /got null/],
      [-1.1, undefined, /got -1.1/],
      [{ energy: -1 }, { steps: 3 }, /unknown option steps; the only option is step/],
      [{ '': 1 }, undefined, /metric name the string "" must be a non-empty string/],
      [{ 'a\nb': 1 }, undefined, /without control characters/],
    ];
    for (const [metrics, opts, message] of bad)
      assert.throws(
        () => log(metrics as Record<string, number>, opts as { step?: number }),
        (err: unknown) => err instanceof TypeError && message.test(err.message),
        `log(${JSON.stringify(metrics)}, ${JSON.stringify(opts)})`,
      );
    assert.deepEqual(posted, []);
  } finally {
    installRuntime(undefined);
  }
  assert.throws(() => log({ energy: 1 }), /not initialized/);
});

test('Jobs keeps a run: script, output lines, metrics, how it ended; the head refuses malformed points', () => {
  const rows: JobRow[] = [];
  const logged: MetricPoint[] = [];
  let now = 1000;
  const jobs = new Jobs({ job: (r) => rows.push(r), metrics: (p) => logged.push(...p) }, () => now);
  const id = jobs.start(undefined, { script: '/x/vqe.ts' });
  jobs.update(id, { pid: 42, output: [{ stream: 'stdout', text: 'iteration 0: ' }] });
  jobs.update(id, {
    output: [
      { stream: 'stdout', text: 'energy -1.1\nsecond' },
      { stream: 'stderr', text: 'warn\n' },
    ],
  });
  jobs.log(id, [{ key: 'constructor', value: 1, step: 0, ts: 5 }]);
  assert.throws(
    () => jobs.log(id, [{ key: 'e', value: 'x' as unknown as number, step: 0, ts: 5 }]),
    /value of metric "e"/,
  );
  assert.throws(() => jobs.log(id, 'x' as never), /points must be an array/);
  now = 2000;
  jobs.end(id);
  const row = jobs.rows()[0]!;
  assert.equal(row.script, '/x/vqe.ts');
  assert.equal(row.pid, 42);
  assert.equal(row.status, 'disconnected');
  assert.equal(row.endedAt, 2000);
  assert.deepEqual(row.output, ['iteration 0: energy -1.1', '[err] warn', 'second']);
  assert.deepEqual(
    jobs.metrics.points().map((p) => [p.key, p.value]),
    [['constructor', 1]],
  );
  assert.equal(logged.length, 1);
  // An example the dashboard started exits with code 3: its run failed, whatever the socket said.
  jobs.exited(42, 3, null);
  assert.equal(jobs.rows()[0]!.status, 'failed');
  assert.equal(jobs.rows()[0]!.error, 'exit code 3');
  assert.ok(rows.length >= 4);
  // The driver that says it succeeded has ended then (its duration shows before its socket
  // closes), and stays succeeded when the socket closes.
  const ok = jobs.start();
  now += 250;
  jobs.update(ok, { status: 'succeeded' });
  const endedAt = now;
  assert.equal(jobs.rows()[1]!.endedAt, endedAt);
  now += 1000;
  jobs.end(ok);
  assert.equal(jobs.rows()[1]!.status, 'succeeded');
  assert.equal(jobs.rows()[1]!.endedAt, endedAt);
  // The head's own job is no run.
  jobs.start('orrery-head', { hidden: true });
  assert.equal(jobs.rows().length, 2);
});

const root = mkdtempSync(join(tmpdir(), 'orrery-runs-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a session records each run with its output and metrics, and the reader gives them back', async () => {
  const head = new Head({ log: () => {} });
  const dir = join(root, 'sessions');
  const { stop } = startSession(head, 'runs-1', {}, undefined, { dir, log: () => {} });
  const jobId = head.startJob(undefined, { script: 'drive.ts' });
  const caller = { jobId };
  head.requests.post({ op: 'job-update', output: [{ stream: 'stdout', text: 'hello\n' }] }, caller);
  for (let step = 0; step < 3; step++)
    head.requests.post(
      { op: 'log-metrics', points: [{ key: 'energy', value: -1 - step / 10, step, ts: Date.now() }] },
      caller,
    );
  head.requests.post({ op: 'job-update', status: 'succeeded' }, caller);
  head.endJob(jobId);
  // A driver whose end the head never heard of.
  const vanished = head.startJob(undefined, { script: 'vanished.ts' });
  await head.shutdown();
  await stop();
  const reader = new SessionStore({ dir }).open('runs-1');
  try {
    assert.ok(reader.schemaVersion >= 3, `schema ${reader.schemaVersion}`);
    const { jobs, metrics } = reader.jobs();
    assert.equal(jobs.length, 2);
    assert.equal(jobs[1]!.jobId, vanished);
    assert.equal(jobs[1]!.status, 'disconnected', 'a run still running in a session no head records is disconnected');
    assert.equal(jobs[0]!.jobId, jobId);
    assert.equal(jobs[0]!.script, 'drive.ts');
    assert.equal(jobs[0]!.status, 'succeeded');
    assert.ok(jobs[0]!.endedAt);
    assert.deepEqual(jobs[0]!.output, ['hello']);
    assert.deepEqual(
      metrics.map((p) => [p.jobId, p.key, p.step, p.value]),
      [
        [jobId, 'energy', 0, -1],
        [jobId, 'energy', 1, -1.1],
        [jobId, 'energy', 2, -1.2],
      ],
    );
  } finally {
    reader.close();
  }
});

test("the Runs tab's progress: done of total per run and task name, the rate so far and the time left", async () => {
  const { runProgress, rateOf, etaOf } = await import('../../renderer/src/run-progress.ts');
  const task = (id: number, jobId: string | undefined, name: string, state: TaskState, endedAt?: number): TaskView => ({
    id: String(id),
    name,
    kind: 'function',
    state,
    deps: [],
    attempt: 0,
    submittedAt: 1000,
    endedAt,
    jobId,
  });
  const tasks = [
    ...Array.from({ length: 6 }, (_, i) => task(i, 'j1', 'circuit', 'FINISHED', 3000)),
    task(6, 'j1', 'circuit', 'FAILED', 3000),
    ...Array.from({ length: 3 }, (_, i) => task(10 + i, 'j1', 'circuit', 'RUNNING')),
    task(20, 'j2', '__proto__', 'FINISHED', 2000),
    task(30, undefined, 'orphan', 'FINISHED', 2000),
  ];
  const p = runProgress(tasks);
  assert.deepEqual([...p.keys()], ['j1', 'j2']);
  const circuit = p.get('j1')!.get('circuit')!;
  assert.deepEqual([circuit.total, circuit.done, circuit.failed], [10, 7, 1]);
  // 7 done in the 4 s since the first was submitted: 1.75/s, 3 left: about 1.7 s.
  assert.equal(rateOf(circuit, 5000), 7 / 4);
  assert.ok(Math.abs(etaOf(circuit, 5000)! - (3 / 1.75) * 1000) < 1e-6);
  const done = p.get('j2')!.get('__proto__')!;
  assert.equal(rateOf(done, 99_000), 1, 'a finished name keeps the rate it ran at');
  assert.equal(etaOf(done, 99_000), undefined);
});
