/**
 * Automatic batching of circuit tasks on the ibm-quantum backend, against the IBM emulator
 * (many PUBs per Sampler V2 job, per-job execution limit), with the API key in the real OS
 * keychain. Run inside test/services/keyring.sh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as orrery from 'orrery-compute';
import { runIbmBatch } from '../../backends/quantum/ibm/index.ts';
import { CircuitBatcher } from '../../backends/quantum/batching/circuit-batcher.ts';
import { startBatchServer } from '../../backends/quantum/batching/batch-server.ts';
import { runThroughBatcher } from '../../backends/quantum/batching/batch-client.ts';
import { parseQasm } from '../../backends/quantum/qasm/index.ts';
import type { CircuitResult, CircuitRun, TaskInfo } from '../../backends/quantum/run-types.ts';
import { BackendError } from '../../orchestrator/core/errors.ts';
import { until } from './helpers.ts';
import { ibmEmulatorSetup } from './ibm-setup.ts';

const setup = ibmEmulatorSetup(undefined, { device: 'ibm_fake_manila' });

function circuitRun(qasm: string, shots: number, signal?: AbortSignal) {
  const reports: TaskInfo[] = [];
  const logs: string[] = [];
  const run: CircuitRun = {
    circuit: parseQasm(qasm),
    source: qasm,
    shots,
    device: undefined,
    signal: signal ?? new AbortController().signal,
    report: (info) => reports.push(info),
    log: (line) => logs.push(line),
  };
  return { run, reports, logs };
}

const BELL = `OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c = measure q;
`;
/** q0 flipped: always '01' (clbit 0 rightmost). */
const FLIP = `OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
x q[0];
c = measure q;
`;

/** One qubit rotated by theta: '0' at 0, '1' at pi. */
const ROTATION = `OPENQASM 3.0;
include "stdgates.inc";
input float[64] theta;
qubit[1] q;
bit[1] c;
rx(theta) q[0];
c[0] = measure q[0];
`;

function assertBell(r: CircuitResult, shots: number): void {
  assert.deepEqual(Object.keys(r.counts).sort(), ['00', '11']);
  assert.equal((r.counts['00'] ?? 0) + (r.counts['11'] ?? 0), shots);
}

test('one Sampler V2 job carries one PUB per circuit; each circuit gets its own PUB result and batchIndex', async () => {
  const { emu, config } = await setup();
  const runs = [circuitRun(BELL, 200), circuitRun(FLIP, 200), circuitRun(BELL, 200)];
  const outcomes = await runIbmBatch(
    config,
    runs.map((r) => r.run),
  );
  assert.equal(emu.jobs().length, 1);
  assert.equal(emu.jobs()[0]!.pubs.length, 3);
  const [a, b, c] = outcomes as CircuitResult[];
  assertBell(a!, 200);
  assert.deepEqual(b!.counts, { '01': 200 });
  assertBell(c!, 200);
  runs.forEach((r, i) => {
    const last = r.reports.at(-1)!;
    assert.equal(last.jobId, emu.jobs()[0]!.id);
    assert.equal(last.batchIndex, i);
    assert.equal(last.batchSize, 3);
  });
});

test('a batch larger than the per-job execution limit is split into several jobs', async () => {
  const { emu, config } = await setup({ maxExecutionsPerJob: 3000 }, { maxExecutionsPerJob: 3000 });
  const runs = Array.from({ length: 7 }, () => circuitRun(BELL, 1000));
  const outcomes = await runIbmBatch(
    config,
    runs.map((r) => r.run),
  );
  assert.deepEqual(
    emu.jobs().map((j) => j.pubs.length),
    [3, 3, 1],
  );
  for (const o of outcomes) assertBell(o as CircuitResult, 1000);
  // The service refuses a job over its limit with its own message (here: the config does not know the limit).
  const { config: unaware } = await setup({ maxExecutionsPerJob: 3000 });
  const [refused] = await runIbmBatch(unaware, [circuitRun(BELL, 2000).run, circuitRun(BELL, 2000).run]);
  assert.ok(refused instanceof BackendError, String(refused));
  assert.match(refused.message, /4000 executions.*at most 3000/);
});

test('a failed job fails every circuit in it with the service message', async () => {
  const { emu, config } = await setup();
  emu.failNextJob('Error code 1500; the QPU lost calibration during the job', 1500);
  const outcomes = await runIbmBatch(config, [circuitRun(BELL, 10).run, circuitRun(FLIP, 10).run]);
  assert.equal(emu.jobs().length, 1);
  for (const o of outcomes) {
    assert.ok(o instanceof BackendError, String(o));
    assert.match(o.message, /failed: Error code 1500; the QPU lost calibration/);
  }
});

test('cancel before submission takes a circuit out of the batch; after, its result is dropped; the job is cancelled when all are', async () => {
  const { emu, config } = await setup({ queueDelayMs: 400 });
  const batcher = new CircuitBatcher((runs) => runIbmBatch(config, runs), 150, 5);
  // Before submission: three circuits wait in the window, one is cancelled.
  const ctl = [new AbortController(), new AbortController(), new AbortController()];
  const pending = ctl.map((c, i) => batcher.submit(circuitRun(i === 1 ? FLIP : BELL, 100, c.signal).run));
  const early = new Error('cancelled before submission');
  ctl[1]!.abort(early);
  await assert.rejects(pending[1]!, (e) => e === early);
  const job = await until('the batch to be submitted', () => emu.jobs()[0]);
  assert.equal(job.pubs.length, 2, 'the cancelled circuit left the batch');
  // After submission: one result is dropped, the job keeps running for the other.
  const late = new Error('cancelled after submission');
  ctl[0]!.abort(late);
  await assert.rejects(pending[0]!, (e) => e === late);
  assertBell(await pending[2]!, 100);
  assert.equal(job.status, 'Completed');
  assert.deepEqual(emu.cancels, []);
  // Every circuit of a job cancelled: the job is cancelled on the service.
  const all = [new AbortController(), new AbortController()];
  const both = all.map((c) => batcher.submit(circuitRun(BELL, 100, c.signal).run));
  const second = await until('the second batch to be submitted', () => emu.jobs()[1]);
  for (const c of all) c.abort(new Error('all cancelled'));
  for (const p of both) await assert.rejects(p, /all cancelled/);
  await until('the job to be cancelled', () => emu.cancels.includes(second.id));
  assert.equal(second.status, 'Cancelled');
});

test('a resumed head follows a batched job by its id and index instead of submitting again', async () => {
  const { emu, config } = await setup();
  const [, flip] = await runIbmBatch(config, [circuitRun(BELL, 300).run, circuitRun(FLIP, 300).run]);
  const id = (flip as CircuitResult).jobId!;
  const again = circuitRun(FLIP, 300);
  const [followed] = await runIbmBatch(config, [{ ...again.run, resumeJobId: `${id}#1` }]);
  assert.equal(emu.jobs().length, 1, 'no new job was submitted');
  assert.deepEqual((followed as CircuitResult).counts, { '01': 300 });
  assert.ok(again.reports.some((i) => i.resumed === true && i.batchIndex === 1));
});

test('end to end: concurrent circuit tasks from the driver and from nested tasks go out as one job', async () => {
  const { emu, config } = await setup({ queueDelayMs: 200 });
  const { circuit, get, init, remote, shutdown, state } = orrery;
  await init({
    numCpus: 2,
    logToDriver: false,
    backends: [
      { ...config, batchWindowMs: 400 },
      { name: 'sim', kind: 'quantum-simulator', seed: 7, maxConcurrent: 1 },
    ],
  });
  try {
    const bell = circuit({ backend: 'ibm', shots: 100 });
    // Warm the node's workers so the circuits below become ready within the window.
    await get(Array.from({ length: 6 }, () => bell.remote(BELL)));
    const before = emu.jobs().length;
    const nested = remote({ name: 'nested-driver' }, async (qasm: string) => {
      const o = await import('orrery-compute');
      const c = o.circuit({ backend: 'ibm', shots: 100 });
      return await o.get([c.remote(qasm), c.remote(qasm)]);
    });
    const direct = [bell.remote(BELL), bell.remote(FLIP)];
    const fromTasks = [nested.remote(BELL), nested.remote(FLIP)];
    const [d1, d2] = await get(direct);
    const [[n1, n2], [n3, n4]] = await get(fromTasks);
    assertBell(d1!, 100);
    assert.deepEqual(d2!.counts, { '01': 100 });
    for (const r of [n1!, n2!]) assertBell(r, 100);
    for (const r of [n3!, n4!]) assert.deepEqual(r.counts, { '01': 100 });
    const jobs = new Set([d1, d2, n1, n2, n3, n4].map((r) => r!.jobId));
    assert.ok(emu.jobs().length - before <= 2, `6 circuits went out as ${emu.jobs().length - before} jobs`);
    assert.ok(jobs.size <= 2);
    // Each task keeps its own State API row, naming the shared job and its index in it.
    const rows = await state.listTasks({ filters: [['name', '=', 'circuit']], limit: 1000 });
    const batched = rows.filter((r) => jobs.has((r.info as Record<string, unknown>).jobId as string));
    assert.equal(batched.length, 6);
    const indexes = batched.map(
      (r) => `${(r.info as Record<string, unknown>).jobId}#${(r.info as Record<string, unknown>).batchIndex}`,
    );
    assert.equal(new Set(indexes).size, 6, 'every task has its own PUB');

    // A parameter sweep is one task with one result per binding: one job on IBM, bound runs on the simulator.
    const angles = [0, Math.PI, Math.PI / 2].map((theta) => ({ theta }));
    const jobsBefore = emu.jobs().length;
    const sweep = await get(bell.map(ROTATION, angles));
    assert.equal(emu.jobs().length - jobsBefore, 1, 'the sweep went out as one job');
    assert.equal(emu.jobs().at(-1)!.pubs.length, 1, 'one PUB with parameter_values (ibm-sweep.test.ts)');
    assert.equal(emu.jobs().at(-1)!.pubs[0]!.parameterValues?.length, 3);
    assert.deepEqual(sweep[0]!.counts, { '0': 100 });
    assert.deepEqual(sweep[1]!.counts, { '1': 100 });
    assert.equal(new Set(sweep.map((r) => r.jobId)).size, 1);
    const simSweep = await get(circuit({ backend: 'sim', shots: 400 }).map(ROTATION, angles));
    assert.equal(simSweep.length, 3);
    assert.deepEqual(simSweep[0]!.counts, { '0': 400 });
    assert.deepEqual(simSweep[1]!.counts, { '1': 400 });
    assert.equal((simSweep[2]!.counts['0'] ?? 0) + (simSweep[2]!.counts['1'] ?? 0), 400);
    assert.ok((simSweep[2]!.counts['0'] ?? 0) > 100 && (simSweep[2]!.counts['1'] ?? 0) > 100);
    assert.throws(() => bell.map(ROTATION, []), /paramSets must be a non-empty array/);
    assert.throws(() => bell.map(ROTATION, [{ theta: 1 }, {}]), /theta/);
  } finally {
    await shutdown();
  }
});

test('end to end: cancel() of a batched task drops its result; cancelling every task of a job cancels the job', async () => {
  const { emu, config } = await setup({ queueDelayMs: 1500 });
  const { cancel, circuit, get, init, shutdown, TaskCancelledError } = orrery;
  await init({ numCpus: 1, logToDriver: false, backends: [{ ...config, batchWindowMs: 200 }] });
  try {
    const bell = circuit({ backend: 'ibm', shots: 100, maxRetries: 0 });
    const refs = [bell.remote(BELL), bell.remote(FLIP), bell.remote(BELL)];
    const job = await until('the batch to be submitted', () => emu.jobs()[0], 30_000);
    await cancel(refs[1]!);
    await assert.rejects(get(refs[1]!), (e: unknown) => e instanceof TaskCancelledError);
    const [a, c] = await get([refs[0]!, refs[2]!]);
    assertBell(a!, 100);
    assertBell(c!, 100);
    assert.equal(job.status, 'Completed');
    assert.equal(job.pubs.length, 3);
    assert.deepEqual(emu.cancels, [], 'the job ran on for the other tasks');

    const both = [bell.remote(BELL), bell.remote(FLIP)];
    const second = await until('the second batch to be submitted', () => emu.jobs()[1], 30_000);
    for (const r of both) await cancel(r);
    for (const r of both) await assert.rejects(get(r), (e: unknown) => e instanceof TaskCancelledError);
    await until('the job to be cancelled on the service', () => emu.cancels.includes(second.id), 30_000);
    assert.equal(second.status, 'Cancelled');
  } finally {
    await shutdown();
  }
});

/** Pids of this user's processes whose environment holds `needle` (the batching node's shared worker). */
function processesWithEnv(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8');
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (env.includes(needle) && cmd.includes('worker-main')) found.push(Number(entry));
    } catch {
      // Gone, or not ours.
    }
  }
  return found;
}

test('end to end: when the shared worker dies, every batched task it held is retried and its job cancelled', async () => {
  const { emu, config } = await setup({ queueDelayMs: 1500 });
  const { circuit, get, init, shutdown } = orrery;
  await init({ numCpus: 1, logToDriver: false, backends: [{ ...config, batchWindowMs: 200 }] });
  try {
    const bell = circuit({ backend: 'ibm', shots: 100, maxRetries: 1 });
    const refs = [bell.remote(BELL), bell.remote(FLIP), bell.remote(BELL)];
    const first = await until('the batch to be submitted', () => emu.jobs()[0], 30_000);
    const workers = processesWithEnv('ORRERY_CIRCUIT_BATCHER=');
    assert.equal(workers.length, 1, `one shared worker runs the node's circuit tasks (found ${workers.join(', ')})`);
    process.kill(workers[0]!, 'SIGKILL');
    const [a, b, c] = await get(refs);
    assertBell(a!, 100);
    assert.deepEqual(b!.counts, { '01': 100 });
    assertBell(c!, 100);
    assert.ok(emu.cancels.includes(first.id), "the dead worker's job was cancelled");
    assert.equal(emu.jobs().length, 2, 'the retries went out together as one new job');
    assert.equal(emu.jobs()[1]!.pubs.length, 3);
  } finally {
    await shutdown();
  }
});

test("a worker whose head died follows its batched job through the restarted head's batcher, submitting nothing again", async () => {
  const { emu, config } = await setup({ queueDelayMs: 2000 });
  const dir = mkdtempSync(join(tmpdir(), 'orrery-batch-resume-'));
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
  const pending = runThroughBatcher(
    'ibm',
    path,
    { type: 'run', source: FLIP, shots: 100 },
    { signal: new AbortController().signal, report: (i) => reports.push(i), log: (l) => logs.push(l) },
  );
  const job = await until(
    'the job to be submitted',
    () => emu.jobs()[0] && reports.some((r) => r.jobId) && emu.jobs()[0],
  );
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const server = await startBatchServer('ibm', new CircuitBatcher((runs) => runIbmBatch(config, runs), 50, 5), dir);
  try {
    const r = await pending;
    assert.deepEqual(r.counts, { '01': 100 });
    assert.equal(r.jobId, job.id);
    assert.equal(emu.jobs().length, 1, 'the circuit was not submitted again');
    assert.ok(reports.some((i) => i.resumed === true));
    assert.ok(
      logs.some((l) => /following job .* again/.test(l)),
      logs.join('\n'),
    );
  } finally {
    await server.close();
  }
});
