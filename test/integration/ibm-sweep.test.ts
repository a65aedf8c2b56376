/**
 * A parameter sweep (`circuit().map`) on ibm-quantum as ONE Sampler V2 PUB `[circuit,
 * parameter_values]` against the IBM emulator: one job, one PUB with one row per binding, results
 * that match the simulator's, a sweep over the per-job execution limit cut into parts, and a
 * resumed sweep following its job(s). Run inside test/services/keyring.sh (API key in the keychain).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as orrery from 'orrery-compute';
import { runIbmBatch, runSweepOnIbm } from '../../backends/quantum/ibm/index.ts';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CircuitBatcher } from '../../backends/quantum/batching/circuit-batcher.ts';
import { startBatchServer } from '../../backends/quantum/batching/batch-server.ts';
import { runSweepThroughBatcher } from '../../backends/quantum/batching/batch-client.ts';
import { until } from './helpers.ts';
import { parseQasm, qasmInputs } from '../../backends/quantum/qasm/index.ts';
import { simulate } from '../../backends/quantum/simulator/index.ts';
import type { CircuitResult, CircuitRun, TaskInfo } from '../../backends/quantum/run-types.ts';
import { ibmEmulatorSetup } from './ibm-setup.ts';

const setup = ibmEmulatorSetup(undefined, { device: 'ibm_fake_manila' });

/** Two qubits: a parameterised rotation, entangled, and a constant run on the second qubit. */
const ANSATZ = `OPENQASM 3.0;
include "stdgates.inc";
input float[64] theta;
input float[64] phi;
qubit[2] q;
bit[2] c;
ry(theta) q[0];
h q[1];
s q[1];
cx q[0], q[1];
rz(phi) q[1];
h q[1];
c = measure q;
`;

const BINDINGS = [0, 0.7, 1.9, Math.PI].map((theta, i) => ({ theta, phi: 0.4 * i }));

function sweepRun(qasm: string, bindings: readonly Record<string, number>[], shots: number) {
  const reports: TaskInfo[] = [];
  const logs: string[] = [];
  const sweep = bindings.map((b) => parseQasm(qasm, b));
  const run: CircuitRun = {
    circuit: sweep[0]!,
    sweep,
    source: qasm,
    shots,
    device: undefined,
    signal: new AbortController().signal,
    report: (info) => reports.push(info),
    log: (line) => logs.push(line),
  };
  return { run, reports, logs, last: () => Object.assign({}, ...reports) as TaskInfo };
}

/** Total variation distance between two count tables of `shots` shots each. */
function distance(a: Record<string, number>, b: Record<string, number>, shots: number): number {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  let d = 0;
  for (const k of keys) d += Math.abs((a[k] ?? 0) - (b[k] ?? 0));
  return d / (2 * shots);
}

test('a sweep of N bindings is one job with one PUB whose parameter_values has N rows; results match the simulator', async () => {
  const { emu, config } = await setup({ seed: 11 });
  const shots = 4000;
  const s = sweepRun(ANSATZ, BINDINGS, shots);
  const results = await runSweepOnIbm(config, s.run);
  assert.equal(emu.jobs().length, 1);
  const job = emu.jobs()[0]!;
  assert.equal(job.pubs.length, 1, 'one PUB');
  const pub = job.pubs[0]!;
  assert.equal(pub.parameterValues?.length, BINDINGS.length, 'one row per binding');
  const inputs = qasmInputs(pub.qasm);
  assert.ok(inputs.length > 0, 'the device circuit has free parameters');
  for (const row of pub.parameterValues!) assert.equal(row.length, inputs.length);
  assert.equal(results.length, BINDINGS.length);
  BINDINGS.forEach((b, i) => {
    const r = results[i]!;
    assert.equal(r.jobId, job.id);
    assert.equal(r.shots, shots);
    assert.equal(
      Object.values(r.counts).reduce((x, y) => x + y, 0),
      shots,
    );
    const expected = simulate(parseQasm(ANSATZ, b), { shots, seed: 5 }).counts;
    const d = distance(r.counts, expected, shots);
    assert.ok(
      d < 0.05,
      `binding ${i}: distance ${d.toFixed(3)} from the simulator (${JSON.stringify(r.counts)} vs ${JSON.stringify(expected)})`,
    );
  });
  const info = s.last();
  assert.equal(info.jobId, job.id);
  assert.equal(info.batchIndex, 0);
  assert.equal(info.sweepSize, BINDINGS.length);
  assert.ok(s.logs.some((l) => /a sweep of 4 bindings as one PUB/.test(l)));
});

test('constant one-qubit runs are not parameters: only the rz angles a binding changes are', async () => {
  const { emu, config } = await setup();
  // theta only moves q[0]; the h·s·h on q[1] before the cx and after it are the same in every binding.
  const one = `OPENQASM 3.0;
include "stdgates.inc";
input float[64] theta;
qubit[2] q;
bit[2] c;
rx(theta) q[0];
h q[1];
s q[1];
cx q[0], q[1];
h q[1];
c = measure q;
`;
  const bindings = [0.1, 1.1, 2.1].map((theta) => ({ theta }));
  const results = await runSweepOnIbm(config, sweepRun(one, bindings, 2000).run);
  const pub = emu.jobs()[0]!.pubs[0]!;
  const inputs = qasmInputs(pub.qasm);
  assert.ok(inputs.length >= 1 && inputs.length <= 3, `one varying run: ${inputs.length} parameters`);
  // Parameters are zero-padded `_p<k>` so Qiskit's name order is their order in a row.
  assert.deepEqual([...inputs].sort(), inputs);
  bindings.forEach((b, i) => {
    const expected = simulate(parseQasm(one, b), { shots: 2000, seed: 3 }).counts;
    assert.ok(distance(results[i]!.counts, expected, 2000) < 0.06, `binding ${i}`);
  });
});

test('a sweep over maxExecutionsPerJob is cut into parts of whole rows, one job each, results in order', async () => {
  const { emu, config } = await setup(undefined, { maxExecutionsPerJob: 250 });
  const bindings = [0, Math.PI, 0, Math.PI, 0].map((theta) => ({ theta, phi: 0 }));
  const s = sweepRun(ANSATZ, bindings, 100);
  const results = await runSweepOnIbm(config, s.run);
  assert.deepEqual(
    emu.jobs().map((j) => j.pubs.map((p) => p.parameterValues?.length)),
    [[2], [2], [1]],
    'rows x shots <= 250 per job',
  );
  assert.equal(results.length, 5);
  // theta = 0 leaves q[0] in |0>, theta = pi flips it: clbit 0 (rightmost) follows.
  results.forEach((r, i) => {
    const ones = Object.entries(r.counts).reduce((n, [k, v]) => n + (k.endsWith('1') ? v : 0), 0);
    assert.equal(ones, i % 2 === 1 ? 100 : 0, `binding ${i}`);
  });
  const info = s.last();
  assert.equal(info.sweepParts, 3);
  assert.match(String(info.jobId), /^[0-9a-f]+#0,[0-9a-f]+#0,[0-9a-f]+#0$/);
});

test('a resumed sweep follows its job again instead of submitting the sweep a second time', async () => {
  const { emu, config } = await setup({ seed: 2 });
  const first = sweepRun(ANSATZ, BINDINGS, 500);
  const done = await runSweepOnIbm(config, first.run);
  const recorded = `${first.last().jobId}#${first.last().batchIndex}`;
  const again = sweepRun(ANSATZ, BINDINGS, 500);
  const resumed = await runSweepOnIbm(config, { ...again.run, resumeJobId: recorded });
  assert.equal(emu.jobs().length, 1, 'no second job');
  assert.deepEqual(
    resumed.map((r) => r.counts),
    done.map((r) => r.counts),
  );
  assert.ok(again.reports.some((i) => i.resumed === true));
  // A sweep cut into parts names every part; resuming follows each.
  const { emu: emu2, config: split } = await setup(undefined, { maxExecutionsPerJob: 1000 });
  const parts = sweepRun(ANSATZ, BINDINGS, 500);
  const partsDone = await runSweepOnIbm(split, parts.run);
  const jobs = emu2.jobs().length;
  const follow = sweepRun(ANSATZ, BINDINGS, 500);
  const followed = await runSweepOnIbm(split, { ...follow.run, resumeJobId: String(parts.last().jobId) });
  assert.equal(emu2.jobs().length, jobs);
  assert.deepEqual(
    followed.map((r) => r.counts),
    partsDone.map((r) => r.counts),
  );
});

test('in a batch a sweep is one unit beside single circuits: one job, the sweep one PUB of it', async () => {
  const { emu, config } = await setup();
  const batcher = new CircuitBatcher((runs) => runIbmBatch(config, runs), 100, 2);
  const s = sweepRun(ANSATZ, BINDINGS, 200);
  const single = sweepRun(ANSATZ, [BINDINGS[1]!], 200);
  const plain: CircuitRun = { ...single.run, sweep: undefined };
  const [swept, one] = await Promise.all([
    batcher.submitSweep({ ...s.run, sweep: s.run.sweep! }),
    batcher.submit(plain),
  ]);
  assert.equal(emu.jobs().length, 1);
  const pubs = emu.jobs()[0]!.pubs;
  assert.equal(pubs.length, 2);
  assert.equal(pubs.filter((p) => p.parameterValues?.length === BINDINGS.length).length, 1);
  assert.equal(swept.length, BINDINGS.length);
  assert.equal((one as CircuitResult).shots, 200);
});

test('end to end: circuit().map on ibm-quantum goes out as one PUB and records jobId, batchIndex and sweepSize', async () => {
  const { emu, config } = await setup();
  const { circuit, get, init, shutdown, state } = orrery;
  await init({ numCpus: 1, logToDriver: false, backends: [{ ...config, batchWindowMs: 100 }] });
  try {
    const results = await get(circuit({ backend: 'ibm', shots: 300 }).map(ANSATZ, BINDINGS));
    assert.equal(results.length, BINDINGS.length);
    assert.equal(emu.jobs().length, 1);
    assert.equal(emu.jobs()[0]!.pubs[0]!.parameterValues?.length, BINDINGS.length);
    const rows = await state.listTasks({ filters: [['name', '=', 'circuit']], limit: 100 });
    const infos = rows.map((r) => r.info as Record<string, unknown>).filter((i) => i.jobId === emu.jobs()[0]!.id);
    assert.equal(infos.length, 1, JSON.stringify(rows.map((r) => [r.name, r.info])));
    assert.equal(infos[0]!.sweepSize, BINDINGS.length);
    assert.equal(infos[0]!.batchIndex, 0);
  } finally {
    await shutdown();
  }
});

test("a sweep's worker whose head died follows the sweep's job through the restarted head's batcher; nothing is submitted again", async () => {
  const { emu, config } = await setup({ queueDelayMs: 2000 });
  const dir = mkdtempSync(join(tmpdir(), 'orrery-sweep-resume-'));
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
  const bindings = [0, Math.PI, 0].map((theta) => ({ theta, phi: 0 }));
  const pending = runSweepThroughBatcher(
    'ibm',
    path,
    { type: 'run', source: ANSATZ, shots: 100, sweep: bindings },
    { signal: new AbortController().signal, report: (i) => reports.push(i), log: (l) => logs.push(l) },
  );
  const job = await until('the sweep to be submitted', () => reports.some((r) => r.jobId) && emu.jobs()[0]);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const server = await startBatchServer('ibm', new CircuitBatcher((runs) => runIbmBatch(config, runs), 50, 5), dir);
  try {
    const results = await pending;
    assert.equal(results.length, 3);
    assert.equal(emu.jobs().length, 1, 'the sweep was not submitted again');
    results.forEach((r, i) => {
      assert.equal(r.jobId, job.id);
      const ones = Object.entries(r.counts).reduce((n, [k, v]) => n + (k.endsWith('1') ? v : 0), 0);
      assert.equal(ones, i === 1 ? 100 : 0, `binding ${i}`);
    });
    assert.ok(reports.some((i) => i.resumed === true && i.sweepSize === 3));
    assert.ok(
      logs.some((l) => new RegExp(`following job ${job.id}#0 again`).test(l)),
      logs.join('\n'),
    );
  } finally {
    await server.close();
  }
});
