/**
 * estimator() through the real head: on the quantum-simulator backend (exact and sampled) and on
 * the braket backend against the AWS emulator (one quantum task per measurement basis, signed by
 * the real @aws-sdk clients).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { estimator, get, init, shutdown, state, QasmError } from 'orrery-compute';
import { startAwsEmulator, type AwsEmulator } from '../emulators/aws/server.ts';
import { checkBraketConfig } from '../../backends/quantum/braket/index.ts';
import { estimateOnBraket } from '../../backends/quantum/braket/estimator-runner.ts';
import { parseQasm } from '../../backends/quantum/qasm/index.ts';
import { parseObservables } from '../../backends/quantum/observables.ts';
import type { EstimatorRun } from '../../backends/quantum/estimator-run.ts';

const SV1 = 'arn:aws:braket:::device/quantum-simulator/amazon/sv1';
const BUCKET = 'amazon-braket-orrery-estimator';

const BELL = `OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
`;

/** cos(θ/2)|01> + sin(θ/2)|10> (|q1 q0>): <IZ> = -cos θ, <ZI> = cos θ, <ZZ> = -1, <XX> = sin θ. */
const H2_LINE = `OPENQASM 3.0;
include "stdgates.inc";
input float[64] theta;
qubit[2] q;
x q[0];
ry(theta) q[1];
cx q[1], q[0];
`;
const H2 = {
  II: -1.052373245772859,
  IZ: 0.39793742484318045,
  ZI: -0.39793742484318045,
  ZZ: -0.01128010425623538,
  XX: 0.18093119978423156,
};
const h2Energy = (t: number) => H2.II - H2.IZ * Math.cos(t) + H2.ZI * Math.cos(t) - H2.ZZ + H2.XX * Math.sin(t);

let emu: AwsEmulator;
const savedEnv = { ...process.env };

before(async () => {
  emu = await startAwsEmulator({ buckets: [BUCKET] });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
  process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_ACCESS_KEY_ID = emu.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = emu.credentials.secretAccessKey;
  await init({
    numCpus: 1,
    logToDriver: false,
    backends: [
      { name: 'sim', kind: 'quantum-simulator', maxQubits: 16, maxConcurrent: 2 },
      {
        name: 'braket',
        kind: 'braket',
        region: 'us-east-1',
        deviceArn: SV1,
        s3Bucket: BUCKET,
        endpoint: emu.endpoint,
        pollIntervalMs: 10,
      },
    ],
  });
});
after(async () => {
  await shutdown();
  await emu.close();
  process.env = savedEnv;
});

test('simulator, exact: Bell <ZZ>=1, <XX>=1, <ZI>=0 and a Pauli sum, stds 0', async () => {
  const r = await get(estimator({ backend: 'sim' }).remote(BELL, ['ZZ', 'XX', 'ZI', { ZZ: 0.5, YY: 2 }]));
  const want = [1, 1, 0, 0.5 - 2];
  for (const [i, v] of r.values.entries()) assert.ok(Math.abs(v - want[i]!) < 1e-12, `${i}: ${v}`);
  assert.deepEqual(r.stds, [0, 0, 0, 0]);
  assert.equal(r.backend, 'sim');
  assert.equal(r.device, 'simulator');
});

test('simulator: the H2 energy at several angles, exact and sampled (seeded, within 5 stds)', async () => {
  const exact = estimator({ backend: 'sim' });
  const sampled = estimator({ backend: 'sim', shots: 8000, seed: 4 });
  const angles = [0, 0.6, 2.9];
  const results = await get([
    ...angles.map((t) => exact.remote(H2_LINE, H2, { theta: t })),
    ...angles.map((t) => sampled.remote(H2_LINE, [H2], { theta: t })),
  ]);
  for (const [i, t] of angles.entries()) {
    assert.ok(Math.abs(results[i]!.values[0]! - h2Energy(t)) < 1e-12);
    const s = results[i + angles.length]!;
    assert.ok(s.stds[0]! > 0 && s.stds[0]! < 0.02, `std ${s.stds[0]}`);
    assert.ok(Math.abs(s.values[0]! - h2Energy(t)) < 5 * s.stds[0]!, `${s.values[0]} vs ${h2Energy(t)}`);
  }
  const again = await get(sampled.remote(H2_LINE, [H2], { theta: 0.6 }));
  assert.deepEqual(again.values, results[angles.length + 1]!.values, 'the same seed gives the same estimate');
});

test('.remote() checks the program and observables at once, naming the bad observable', () => {
  const e = estimator({ backend: 'sim' });
  assert.throws(
    () => e.remote(BELL, ['ZZ', 'ZZZ']),
    (x: Error) =>
      x instanceof TypeError && /observable 1 \("ZZZ"\).*3 letters but the circuit has 2 qubits/.test(x.message),
  );
  assert.throws(() => e.remote(BELL, [{ ZQ: 1 }]), /observable 0 .*only the letters I, X, Y, Z/);
  assert.throws(
    () => e.remote(BELL, [{ ZZ: Number.POSITIVE_INFINITY }]),
    /coefficient of ZZ must be a finite real number/,
  );
  assert.throws(() => e.remote('OPENQASM 3.0; qubit q; foo q;', ['Z']), QasmError);
  assert.throws(() => estimator({ shots: 100, precision: 0.1 }), /shots or precision, not both/);
  assert.throws(() => estimator({ precision: 0 }), /precision must be a number above 0/);
});

test('braket: one quantum task per qubit-wise commuting basis, values from the counts', async () => {
  const before = emu.braket.tasks().length;
  const r = await get(
    estimator({ backend: 'braket', shots: 2000 }).remote(BELL, ['ZZ', 'ZI', 'XX', { ZZ: 1, XX: 1, II: 0.5 }]),
  );
  const tasks = emu.braket.tasks().slice(before);
  assert.equal(tasks.length, 2, 'bases ZZ and XX');
  assert.deepEqual(
    r.jobIds,
    tasks.map((t) => t.arn),
  );
  assert.ok(tasks.every((t) => t.shots === 2000));
  assert.equal(r.device, SV1);
  assert.ok(Math.abs(r.values[0]! - 1) < 1e-12 && r.stds[0] === 0);
  assert.ok(Math.abs(r.values[2]! - 1) < 1e-12 && r.stds[2] === 0);
  assert.ok(Math.abs(r.values[3]! - 2.5) < 1e-12);
  assert.ok(
    Math.abs(r.values[1]!) < 5 * r.stds[1]! && r.stds[1]! > 0.015 && r.stds[1]! < 0.03,
    `ZI ${r.values[1]} ± ${r.stds[1]}`,
  );
  const [row] = await state.listTasks({ filters: [['name', '=', 'estimator']] });
  assert.ok(row, 'the task is listed under its name');
});

test('braket: the basis tasks run at once; cancelling the estimator task cancels them all; a failed one fails the task', async () => {
  const config = checkBraketConfig({
    name: 'braket',
    kind: 'braket',
    region: 'us-east-1',
    deviceArn: SV1,
    s3Bucket: BUCKET,
    endpoint: emu.endpoint,
    pollIntervalMs: 10,
  });
  const circuit = parseQasm(BELL);
  const run = (signal: AbortSignal): EstimatorRun => ({
    circuit,
    source: BELL,
    observables: parseObservables(['ZZ', 'XX', 'YY'], 2),
    shots: 100,
    device: undefined,
    signal,
    report: () => {},
    log: () => {},
  });
  const before = emu.braket.tasks().length;
  emu.braket.setDelays({ queuedMs: 5000 });
  try {
    const abort = new AbortController();
    const pending = estimateOnBraket(config, run(abort.signal));
    while (emu.braket.tasks().length < before + 3) await new Promise((r) => setTimeout(r, 10));
    const mine = emu.braket.tasks().slice(before);
    assert.ok(
      mine.every((t) => t.status === 'QUEUED'),
      'all three bases are in the queue together',
    );
    abort.abort(new Error('cancelled by the test'));
    await assert.rejects(pending, /cancelled/);
    assert.ok(
      mine.every((t) => t.status === 'CANCELLING' || t.status === 'CANCELLED'),
      mine.map((t) => t.status).join(','),
    );
  } finally {
    emu.braket.setDelays({ queuedMs: 30 });
  }
  emu.braket.failNextTask('the device was recalibrated');
  await assert.rejects(estimateOnBraket(config, run(new AbortController().signal)), /the device was recalibrated/);
});
