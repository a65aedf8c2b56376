/**
 * Estimator tasks on the ibm-quantum backend against the IBM emulator's Estimator V2 jobs, with
 * the API key in the real OS keychain. Run inside test/services/keyring.sh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as orrery from 'orrery-compute';
import { estimateOnIbm } from '../../backends/quantum/ibm/estimator-runner.ts';
import { RuntimeClient } from '../../backends/quantum/ibm/runtime-client.ts';
import { parseQasm } from '../../backends/quantum/qasm/index.ts';
import { parseObservables, type ObservableSpec } from '../../backends/quantum/observables.ts';
import type { EstimatorRun } from '../../backends/quantum/estimator-run.ts';
import type { TaskInfo } from '../../backends/quantum/run-types.ts';
import { BackendError } from '../../orchestrator/core/errors.ts';
import { ibmEmulatorSetup } from './ibm-setup.ts';

const ibm = ibmEmulatorSetup({ queueDelayMs: 30, runDelayMs: 10, seed: 5 });
const setup = (queueDelayMs = 30) => ibm({ queueDelayMs });

function estimatorRun(qasm: string, observables: ObservableSpec[], more: Partial<EstimatorRun> = {}) {
  const reports: TaskInfo[] = [];
  const circuit = parseQasm(qasm);
  const run: EstimatorRun = {
    circuit,
    source: qasm,
    observables: parseObservables(observables, circuit.numQubits),
    device: undefined,
    signal: new AbortController().signal,
    report: (i) => reports.push(i),
    log: () => {},
    ...more,
  };
  return { run, reports };
}

const BELL = `OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c = measure q;
`;

/** q0 interacts with three qubits: on a line (ibm_fake_manila) routing must add SWAPs, so the final layout moves qubits. */
const STAR = `OPENQASM 3.0;
include "stdgates.inc";
qubit[5] q;
x q[0];
cx q[0], q[1];
cx q[0], q[3];
cx q[0], q[4];
x q[3];
`;

test('a Bell state on the emulator: one Estimator V2 job, one PUB of ISA observables, values within 5 stds', async () => {
  const { emu, config } = await setup();
  const { run, reports } = estimatorRun(BELL, ['ZZ', 'XX', 'ZI', { ZZ: 0.5, XX: 0.5, IZ: 2, II: -1 }], {
    precision: 0.01,
  });
  const r = await estimateOnIbm(config, run);
  assert.equal(emu.jobs().length, 1);
  const body = emu.requests.find((q) => q.method === 'POST' && q.path === '/api/v1/jobs')!.body as {
    program_id: string;
    backend: string;
    params: { pubs: unknown[][]; version: number };
  };
  assert.equal(body.program_id, 'estimator');
  assert.equal(body.params.version, 2);
  assert.equal(body.params.pubs.length, 1);
  const [qasm, observables, values, precision] = body.params.pubs[0]!;
  assert.match(qasm as string, /^OPENQASM 3/);
  assert.doesNotMatch(qasm as string, /measure/, 'the measurements are dropped');
  assert.equal(values, null);
  assert.equal(precision, 0.01);
  const n = emu.devices.find((d) => d.name === r.device)!.nQubits;
  for (const o of observables as Record<string, number>[])
    for (const pauli of Object.keys(o)) assert.equal(pauli.length, n, `ISA observable ${pauli}`);
  const exact = [1, 1, 0, -1 + 0.5 + 0.5];
  for (const [i, v] of r.values.entries()) {
    assert.ok(Math.abs(v - exact[i]!) <= 5 * r.stds[i]! + 1e-9, `${i}: ${v} ± ${r.stds[i]} vs ${exact[i]}`);
    assert.ok(r.stds[i]! <= 0.03, `std ${r.stds[i]}`);
  }
  assert.ok(r.stds[2]! > 0.005, 'ZI on a Bell state is a coin flip: its std is about the precision');
  assert.deepEqual(r.jobIds, [emu.jobs()[0]!.id]);
  assert.ok(reports.some((i) => i.program === 'estimator' && i.jobStatus === 'Completed'));
});

test('observables follow the transpiled layout: after SWAPs each Pauli lands on the right physical qubit', async () => {
  const { emu, config } = await setup();
  // The state is |q4 q3 q2 q1 q0> = |1 0 0 1 1>: Z reads -1 on q0, q1, q4 and +1 on q2, q3.
  const obs = ['IIIIZ', 'IIIZI', 'IIZII', 'IZIII', 'ZIIII', 'ZIIIZ', { IZIIZ: 2, IIZZI: -1 }];
  const { run } = estimatorRun(STAR, obs, { device: 'ibm_fake_manila', shots: 1000 });
  const r = await estimateOnIbm(config, run);
  const swaps = emu.jobs()[0]!.qasm.match(/swap|cx|ecr/g)?.length ?? 0;
  assert.ok(swaps > 3, 'routing added gates');
  assert.deepEqual(
    r.values.map((v) => Math.round(v * 1e9) / 1e9),
    [-1, -1, 1, 1, -1, 1, -2 + 1],
  );
  const body = emu.requests.find((q) => q.method === 'POST' && q.path === '/api/v1/jobs')!.body as {
    params: { options?: { default_shots?: number } };
  };
  assert.equal(body.params.options?.default_shots, 1000, 'shots go as options.default_shots');
});

test('the emulator refuses observables that are not ISA observables, and a failed job fails the task with its reason', async () => {
  const { emu, config } = await setup();
  const client = new RuntimeClient({
    backend: 'ibm',
    url: emu.url,
    instanceCrn: emu.instanceCrn,
    iam: { backend: 'ibm', iamUrl: emu.iamUrl, apiKey: emu.apiKey, secretName: 'test' },
  });
  await assert.rejects(
    client.submit({
      program_id: 'estimator',
      backend: 'ibm_fake_manila',
      params: { pubs: [[BELL, ['ZZ']]], version: 2, support_qiskit: false },
    }),
    (e: Error) =>
      e instanceof BackendError && /observable 0 acts on 2 qubits but ibm_fake_manila has 5.*ISA/.test(e.message),
  );
  emu.failNextJob('Error code 1500; the job ran out of qubits', 1500);
  await assert.rejects(
    estimateOnIbm(config, estimatorRun(BELL, ['ZZ']).run),
    (e: Error) =>
      e instanceof BackendError &&
      /Estimator job .* failed: Error code 1500; the job ran out of qubits/.test(e.message),
  );
});

test('cancelling the task cancels its Estimator job; a resumed task follows its job instead of submitting again', async () => {
  const { emu, config } = await setup(400);
  const abort = new AbortController();
  const pending = estimateOnIbm(config, estimatorRun(BELL, ['ZZ'], { signal: abort.signal }).run);
  while (emu.jobs().length === 0) await new Promise((r) => setTimeout(r, 10));
  abort.abort(new Error('cancelled by the test'));
  await assert.rejects(pending, /cancelled by the test/);
  assert.deepEqual(emu.cancels, [emu.jobs()[0]!.id]);
  assert.equal(emu.jobs()[0]!.status, 'Cancelled');

  const first = await estimateOnIbm(config, estimatorRun(BELL, ['ZI'], { precision: 0.05 }).run);
  const again = estimatorRun(BELL, ['ZI'], { precision: 0.05, resumeJobId: first.jobIds![0] });
  const second = await estimateOnIbm(config, again.run);
  assert.equal(emu.jobs().length, 2, 'no new job was submitted');
  assert.deepEqual(second.values, first.values);
  assert.ok(again.reports.some((i) => i.resumed === true));
});

test('end to end: estimator() on an ibm-quantum backend through the public API', async () => {
  const { emu, config } = await setup();
  const { estimator, get, init, shutdown, state } = orrery;
  await init({
    logToDriver: false,
    backends: [
      {
        name: 'ibm',
        kind: 'ibm-quantum',
        instanceCrn: emu.instanceCrn,
        apiKeySecret: config.apiKeySecret,
        url: emu.url,
        iamUrl: emu.iamUrl,
        pollIntervalMs: 20,
      },
    ],
  });
  try {
    const r = await get(estimator({ backend: 'ibm', precision: 0.02 }).remote(BELL, ['ZZ', { XX: 2 }]));
    assert.equal(r.backend, 'ibm');
    assert.equal(r.values.length, 2);
    assert.ok(Math.abs(r.values[0]! - 1) < 1e-9 && Math.abs(r.values[1]! - 2) < 1e-9, JSON.stringify(r));
    assert.ok(
      r.stds.every((s) => s < 1e-6),
      'certain values have no shot noise',
    );
    assert.equal(emu.jobs().length, 1);
    const [row] = await state.listTasks({ filters: [['name', '=', 'estimator']] });
    const info = row!.info as Record<string, unknown>;
    assert.equal(info.jobId, emu.jobs()[0]!.id);
    assert.equal(info.program, 'estimator');
  } finally {
    await shutdown();
  }
});

test('in batch mode with a budget, an Estimator job is tagged with the batch, reserves its estimate, records its cost, and the budget refuses the next', async () => {
  const { emu, config } = await setup();
  const { estimator, get, init, shutdown, state, BudgetExceededError } = orrery;
  await init({
    logToDriver: false,
    budget: { usd: 5 },
    backends: [
      {
        name: 'ibm',
        kind: 'ibm-quantum',
        instanceCrn: emu.instanceCrn,
        apiKeySecret: config.apiKeySecret,
        url: emu.url,
        iamUrl: emu.iamUrl,
        pollIntervalMs: 20,
        mode: 'batch',
      },
    ],
  });
  try {
    const est = estimator({ backend: 'ibm', shots: 1000 });
    const r = await get(est.remote(BELL, ['ZZ']));
    assert.ok(Math.abs(r.values[0]! - 1) < 1e-9, JSON.stringify(r));
    const [job] = emu.jobs();
    assert.ok(job!.sessionId, 'the Estimator job went into the backend batch');
    const [row] = await state.listTasks({ filters: [['name', '=', 'estimator']] });
    const info = row!.info as Record<string, unknown>;
    assert.equal(info.ibmSession, job!.sessionId);
    assert.ok((info.costUsd as number) > 0, `cost recorded: ${JSON.stringify(info)}`);
    // $3.20 spent of $5: the next estimate ($3.60 at 1000 shots) would cross it; nothing is submitted.
    const err = await get(est.remote(BELL, ['XX'])).catch((e: Error) => e);
    assert.ok(err instanceof BudgetExceededError, String(err));
    assert.match(err.message, /spent so far/);
    assert.equal(emu.jobs().length, 1);
  } finally {
    await shutdown();
  }
});
