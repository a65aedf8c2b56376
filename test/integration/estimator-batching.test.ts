/**
 * Estimator tasks batched on the ibm-quantum backend, against the IBM emulator: concurrent tasks
 * become one Estimator V2 job with one PUB each (apart from circuit tasks: one job per
 * primitive), split by the per-job execution limit and by `default_shots`, with cancel, a failed
 * job, resume and cost shares. API key in the real OS keychain: run inside test/services/keyring.sh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as orrery from 'orrery-compute';
import { runIbmBatch } from '../../backends/quantum/ibm/index.ts';
import { runIbmEstimatorBatch } from '../../backends/quantum/ibm/estimator-batch.ts';
import { estimateOnIbm } from '../../backends/quantum/ibm/estimator-runner.ts';
import { CircuitBatcher } from '../../backends/quantum/batching/circuit-batcher.ts';
import { startBatchServer } from '../../backends/quantum/batching/batch-server.ts';
import { runThroughBatcher } from '../../backends/quantum/batching/batch-client.ts';
import { parseQasm } from '../../backends/quantum/qasm/index.ts';
import { parseObservables, type ObservableSpec } from '../../backends/quantum/observables.ts';
import type { EstimatorRun, EstimatorTaskResult } from '../../backends/quantum/estimator-run.ts';
import type { CircuitResult, CircuitRun, TaskInfo } from '../../backends/quantum/run-types.ts';
import { BackendError } from '../../orchestrator/core/errors.ts';
import { until } from './helpers.ts';
import { ibmEmulatorSetup } from './ibm-setup.ts';

const setup = ibmEmulatorSetup({ queueDelayMs: 30, runDelayMs: 10, seed: 5 }, { device: 'ibm_fake_manila' });

function estimatorRun(qasm: string, observables: ObservableSpec[], more: Partial<EstimatorRun> = {}) {
  const reports: TaskInfo[] = [];
  const logs: string[] = [];
  const circuit = parseQasm(qasm);
  const run: EstimatorRun = {
    circuit,
    source: qasm,
    observables: parseObservables(observables, circuit.numQubits),
    device: undefined,
    signal: new AbortController().signal,
    report: (i) => reports.push(i),
    log: (l) => logs.push(l),
    ...more,
  };
  return { run, reports, logs };
}

function circuitRun(qasm: string, shots: number): CircuitRun {
  return {
    circuit: parseQasm(qasm),
    source: qasm,
    shots,
    device: undefined,
    signal: new AbortController().signal,
    report: () => {},
    log: () => {},
  };
}

const BELL = `OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c = measure q;
`;
/** q0 flipped: ZI = +1, IZ = -1 (qubit 0 rightmost). */
const FLIP = `OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
x q[0];
`;

/** `actual` equals `expected` up to float error (the transpiled circuit's gates are not exact). */
function near(actual: readonly number[], expected: readonly number[], what = 'values'): void {
  assert.equal(actual.length, expected.length, what);
  for (const [i, v] of actual.entries())
    assert.ok(Math.abs(v - expected[i]!) < 1e-6, `${what}: ${actual} vs ${expected}`);
}

/** Bodies of the Estimator jobs submitted to `emu`, in order. */
function estimatorBodies(emu: Awaited<ReturnType<typeof setup>>['emu']) {
  return emu.requests
    .filter((q) => q.method === 'POST' && q.path === '/api/v1/jobs' && q.status === 200)
    .map((q) => q.body as { program_id: string; params: { pubs: unknown[][]; options?: Record<string, unknown> } })
    .filter((b) => b.program_id === 'estimator');
}

// Observables with certain values (±1, no shot noise): batched and single-job results must be equal.
const TASKS: [string, ObservableSpec[], Partial<EstimatorRun>][] = [
  [BELL, ['ZZ', 'XX'], { precision: 0.02 }],
  [FLIP, ['ZI', 'IZ', { ZI: 2, IZ: 1 }], { precision: 0.05 }],
  [BELL, [{ ZZ: 0.5, XX: 0.5 }], {}],
];

test('concurrent Estimator tasks become one Estimator V2 job, one PUB each (precision per PUB); results equal single-job results', async () => {
  const { emu, config } = await setup();
  const runs = TASKS.map(([q, o, more]) => estimatorRun(q, o, more));
  const outcomes = await runIbmEstimatorBatch(
    config,
    runs.map((r) => r.run),
  );
  assert.equal(emu.jobs().length, 1);
  const [body] = estimatorBodies(emu);
  assert.equal(body!.params.pubs.length, 3);
  assert.deepEqual(
    body!.params.pubs.map((p) => p[3]),
    [0.02, 0.05, undefined],
    'each PUB carries its own precision',
  );
  assert.equal(body!.params.options, undefined);
  const id = emu.jobs()[0]!.id;
  runs.forEach((r, i) => {
    const last = r.reports.at(-1)!;
    assert.equal(last.jobId, id);
    assert.equal(last.batchIndex, i);
    assert.equal(last.batchSize, 3);
    assert.equal(last.program, 'estimator');
    assert.ok((last.costUsd as number) > 0 && last.costOfJobUsd === (last.costUsd as number) * 3, JSON.stringify(last));
    assert.ok(r.logs.some((l) => l.includes(`(PUB ${i} of 3)`)));
  });
  const batched = outcomes as EstimatorTaskResult[];
  near(batched[0]!.values, [1, 1]);
  near(batched[1]!.values, [1, -1, 1]);
  near(batched[2]!.values, [1]);
  for (const r of batched) assert.deepEqual(r.jobIds, [id]);
  // The same tasks one job each (the unbatched runner) give the same values and stds.
  for (const [i, [q, o, more]] of TASKS.entries()) {
    const single = await estimateOnIbm(config, estimatorRun(q, o, more).run);
    near(single.values, batched[i]!.values);
    near(single.stds, batched[i]!.stds, 'stds');
  }
});

test('tasks giving shots go in a job of their default_shots; the per-job execution limit splits a batch', async () => {
  const { emu, config } = await setup({ maxExecutionsPerJob: 5000 }, { maxExecutionsPerJob: 5000 });
  // shots x observables: 1000 x 2 each for the first three, 2500 (precision 0.02) x 1 for the last two.
  const runs = [
    estimatorRun(BELL, ['ZZ', 'XX'], { shots: 1000 }),
    estimatorRun(BELL, ['ZZ', 'XX'], { shots: 1000 }),
    estimatorRun(BELL, ['ZZ', 'XX'], { shots: 1000 }),
    estimatorRun(FLIP, ['ZI'], { precision: 0.02 }),
    estimatorRun(FLIP, ['IZ'], { precision: 0.02 }),
  ];
  const outcomes = await runIbmEstimatorBatch(
    config,
    runs.map((r) => r.run),
  );
  for (const o of outcomes) assert.ok(!(o instanceof Error), String(o));
  const bodies = estimatorBodies(emu);
  assert.deepEqual(
    bodies.map((b) => [b.params.pubs.length, b.params.options?.default_shots]),
    [
      [2, 1000],
      [1, 1000],
      [2, undefined],
    ],
  );
  near((outcomes[4] as EstimatorTaskResult).values, [-1]);
  // The service refuses a job over its limit with its own message (the config does not know the limit).
  const { config: unaware } = await setup({ maxExecutionsPerJob: 3000 });
  const refused = await runIbmEstimatorBatch(unaware, [
    estimatorRun(BELL, ['ZZ', 'XX'], { shots: 1000 }).run,
    estimatorRun(BELL, ['ZZ'], { shots: 1000 }).run,
    estimatorRun(BELL, ['XX'], { shots: 1000 }).run,
  ]);
  for (const r of refused) {
    assert.ok(r instanceof BackendError, String(r));
    assert.match(r.message, /4000 executions.*at most 3000/);
  }
});

test('a failed Estimator job fails every task in it with the service message', async () => {
  const { emu, config } = await setup();
  emu.failNextJob('Error code 1500; the QPU lost calibration during the job', 1500);
  const outcomes = await runIbmEstimatorBatch(config, [estimatorRun(BELL, ['ZZ']).run, estimatorRun(FLIP, ['ZI']).run]);
  assert.equal(emu.jobs().length, 1);
  for (const o of outcomes) {
    assert.ok(o instanceof BackendError, String(o));
    assert.match(o.message, /Estimator job \w+ on ibm_fake_manila failed: Error code 1500; the QPU lost calibration/);
  }
});

test('one batcher: Estimator and circuit tasks ready together make two jobs, one per primitive', async () => {
  const { emu, config } = await setup();
  const batcher = new CircuitBatcher((runs) => runIbmBatch(config, runs), 100, 5).withEstimates((runs) =>
    runIbmEstimatorBatch(config, runs),
  );
  const [s1, e1, e2, s2] = await Promise.all([
    batcher.submit(circuitRun(BELL, 100)),
    batcher.estimate(estimatorRun(BELL, ['ZZ']).run),
    batcher.estimate(estimatorRun(FLIP, ['IZ']).run),
    batcher.submit(circuitRun(BELL, 100)),
  ]);
  assert.equal(emu.jobs().length, 2);
  const programs = emu.requests
    .filter((q) => q.method === 'POST' && q.path === '/api/v1/jobs')
    .map((q) => q.body as { program_id: string; params: { pubs: unknown[] } })
    .map((b) => `${b.program_id}:${b.params.pubs.length}`)
    .sort();
  assert.deepEqual(programs, ['estimator:2', 'sampler:2']);
  assert.equal(s1.jobId, s2.jobId);
  near(e1.values, [1]);
  near(e2.values, [-1]);
  assert.equal(e1.jobIds![0], e2.jobIds![0]);
});

test('cancel before submission takes a task out of the Estimator batch; after, its result is dropped; the job is cancelled when all are', async () => {
  const { emu, config } = await setup({ queueDelayMs: 400 });
  const batcher = new CircuitBatcher((runs) => runIbmBatch(config, runs), 150, 5).withEstimates((runs) =>
    runIbmEstimatorBatch(config, runs),
  );
  const ctl = [new AbortController(), new AbortController(), new AbortController()];
  const pending = ctl.map((c) => batcher.estimate(estimatorRun(BELL, ['ZZ'], { signal: c.signal }).run));
  const early = new Error('cancelled before submission');
  ctl[1]!.abort(early);
  await assert.rejects(pending[1]!, (e) => e === early);
  const job = await until('the batch to be submitted', () => emu.jobs()[0]);
  assert.equal(job.pubs.length, 2, 'the cancelled task left the batch');
  const late = new Error('cancelled after submission');
  ctl[0]!.abort(late);
  await assert.rejects(pending[0]!, (e) => e === late);
  near((await pending[2]!).values, [1]);
  assert.equal(job.status, 'Completed');
  assert.deepEqual(emu.cancels, []);
  const all = [new AbortController(), new AbortController()];
  const both = all.map((c) => batcher.estimate(estimatorRun(FLIP, ['ZI'], { signal: c.signal }).run));
  const second = await until('the second batch to be submitted', () => emu.jobs()[1]);
  for (const c of all) c.abort(new Error('all cancelled'));
  for (const p of both) await assert.rejects(p, /all cancelled/);
  await until('the job to be cancelled', () => emu.cancels.includes(second.id));
  assert.equal(second.status, 'Cancelled');
});

test('a resumed Estimator task follows `<job>#<pub>` again, submitting nothing, and records its cost share', async () => {
  const { emu, config } = await setup();
  const runs = [estimatorRun(BELL, ['ZZ']), estimatorRun(FLIP, ['ZI', 'IZ'])];
  const [, flip] = (await runIbmEstimatorBatch(
    config,
    runs.map((r) => r.run),
  )) as EstimatorTaskResult[];
  const share = runs[1]!.reports.at(-1)!.costUsd as number;
  const again = estimatorRun(FLIP, ['ZI', 'IZ'], { resumeJobId: `${flip!.jobIds![0]}#1` });
  const [followed] = await runIbmEstimatorBatch(config, [again.run]);
  assert.equal(emu.jobs().length, 1, 'no new job was submitted');
  near((followed as EstimatorTaskResult).values, [1, -1]);
  const last = again.reports.at(-1)!;
  assert.equal(last.resumed, true);
  assert.equal(last.batchIndex, 1);
  assert.equal(last.costUsd, share, 'the resumed task records its share of the job, not the whole job');
});

test('a resumed batched circuit records its share of its job cost (item 4)', async () => {
  const { emu, config } = await setup();
  const reports: TaskInfo[] = [];
  const first = circuitRun(FLIP.replace('x q[0];', 'bit[2] c;\nx q[0];\nc = measure q;'), 300);
  const [, flip] = await runIbmBatch(config, [circuitRun(BELL, 300), { ...first, report: (i) => reports.push(i) }]);
  const share = reports.at(-1)!.costUsd as number;
  assert.ok(share > 0);
  const again: TaskInfo[] = [];
  const [followed] = await runIbmBatch(config, [
    { ...first, resumeJobId: `${(flip as CircuitResult).jobId}#1`, report: (i) => again.push(i) },
  ]);
  assert.equal(emu.jobs().length, 1);
  assert.deepEqual((followed as CircuitResult).counts, { '01': 300 });
  assert.equal(again.at(-1)!.costUsd, share);
  assert.equal(again.at(-1)!.costOfJobUsd, share * 2);
});

test('end to end: concurrent estimator() tasks go out as one Estimator job; with circuit tasks, one job per primitive', async () => {
  const { emu, config } = await setup({ queueDelayMs: 200 });
  const { circuit, estimator, get, init, shutdown, state } = orrery;
  await init({ numCpus: 1, logToDriver: false, backends: [{ ...config, batchWindowMs: 400 }] });
  try {
    const est = estimator({ backend: 'ibm', precision: 0.05 });
    // Warm the node's shared worker so the tasks below become ready within one window.
    await get([est.remote(BELL, ['ZZ']), est.remote(BELL, ['XX'])]);
    const before = emu.jobs().length;
    const refs = [est.remote(BELL, ['ZZ', 'XX']), est.remote(FLIP, ['ZI', 'IZ']), est.remote(BELL, [{ ZZ: 2 }])];
    const results = await get(refs);
    assert.equal(emu.jobs().length - before, 1, 'three Estimator tasks, one job');
    for (const [i, exact] of [[1, 1], [1, -1], [2]].entries()) near(results[i]!.values, exact);
    const rows = await state.listTasks({ filters: [['name', '=', 'estimator']], limit: 100 });
    const ids = new Set(rows.map((r) => `${(r.info as TaskInfo).jobId}#${(r.info as TaskInfo).batchIndex}`));
    assert.equal(ids.size, rows.length, 'every task has its own PUB');

    const mixedBefore = emu.jobs().length;
    const bell = circuit({ backend: 'ibm', shots: 100 });
    const [e1, c1, e2, c2] = await Promise.all([
      get(est.remote(BELL, ['ZZ'])),
      get(bell.remote(BELL)),
      get(est.remote(FLIP, ['IZ'])),
      get(bell.remote(BELL)),
    ]);
    assert.equal(emu.jobs().length - mixedBefore, 2, 'one Sampler job and one Estimator job');
    near(e1.values, [1]);
    near(e2.values, [-1]);
    assert.equal(c1.jobId, c2.jobId);
  } finally {
    await shutdown();
  }
});

test("an Estimator task whose head died follows its batched job through the restarted head's batcher, submitting nothing again", async () => {
  const { emu, config } = await setup({ queueDelayMs: 2000 });
  const dir = mkdtempSync(join(tmpdir(), 'orrery-estimate-resume-'));
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      new URL('./fixtures/batch-server-child.ts', import.meta.url).pathname,
      JSON.stringify(config),
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const path = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /READY (\S+)/.exec(d.toString());
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`batcher child exited with ${code}`)));
  });
  const reports: TaskInfo[] = [];
  const logs: string[] = [];
  const hooks = {
    signal: new AbortController().signal,
    report: (i: TaskInfo) => reports.push(i),
    log: (l: string) => logs.push(l),
  };
  const pending = runThroughBatcher('ibm', path, { type: 'estimate', source: FLIP, observables: ['ZI', 'IZ'] }, hooks);
  const job = await until(
    'the job to be submitted',
    () => emu.jobs()[0] && reports.some((r) => r.jobId) && emu.jobs()[0],
  );
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const batcher = new CircuitBatcher((runs) => runIbmBatch(config, runs), 50, 5).withEstimates((runs) =>
    runIbmEstimatorBatch(config, runs),
  );
  const server = await startBatchServer('ibm', batcher, dir);
  try {
    const r = await pending;
    near(r.values, [1, -1]);
    assert.deepEqual(r.jobIds, [job.id]);
    assert.equal(emu.jobs().length, 1, 'the Estimator task was not submitted again');
    assert.ok(reports.some((i) => i.resumed === true && i.program === 'estimator'));
    assert.ok(
      logs.some((l) => /following job .* again/.test(l)),
      logs.join('\n'),
    );
  } finally {
    await server.close();
  }
});
