import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { init, shutdown, circuit, get, remote, state, nodes, QasmError, BackendError, TaskError } from 'orrery-compute';

const BELL = `OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
`;

const ROTATION = `OPENQASM 3.0;
include "stdgates.inc";
input float[64] theta;
qubit q;
bit c;
ry(theta) q;
c = measure q;
`;

before(async () => {
  await init({
    numCpus: 2,
    logToDriver: false,
    backends: [{ name: 'sim', kind: 'quantum-simulator', maxQubits: 20, maxConcurrent: 2 }],
  });
});
after(() => shutdown());

test('the simulator backend joins as a node offering QPU slots and no CPUs', async () => {
  const sim = (await nodes()).find((n) => n.backend === 'sim');
  assert.ok(sim, 'a node of backend sim');
  assert.equal((sim.resources as Record<string, number>).QPU, 2);
  assert.equal((sim.resources as Record<string, number>).CPU, 0);
  assert.equal((sim.labels as Record<string, string>)['orrery.io/quantum'], 'quantum-simulator');
});

test('a Bell circuit gives only 00 and 11, about half each, on the simulator', async () => {
  const r = await get(circuit({ shots: 4000 }).remote(BELL));
  assert.equal(r.shots, 4000);
  assert.equal(r.backend, 'sim');
  assert.equal(r.device, 'simulator');
  assert.deepEqual(Object.keys(r.counts).sort(), ['00', '11']);
  assert.equal(r.counts['00']! + r.counts['11']!, 4000);
  // 4000 fair coin flips: 5 sigma is about 158.
  assert.ok(Math.abs(r.counts['00']! - 2000) < 160, JSON.stringify(r.counts));
});

test('input parameters are bound per call; the same seed gives the same counts', async () => {
  const c = circuit({ shots: 2000, seed: 11 });
  const [zero, pi, half, again] = await get([
    c.remote(ROTATION, { theta: 0 }),
    c.remote(ROTATION, { theta: Math.PI }),
    c.remote(ROTATION, { theta: Math.PI / 2 }),
    c.remote(ROTATION, { theta: Math.PI / 2 }),
  ]);
  assert.deepEqual(zero!.counts, { '0': 2000 });
  assert.deepEqual(pi!.counts, { '1': 2000 });
  assert.ok(Math.abs(half!.counts['1']! - 1000) < 120, JSON.stringify(half!.counts));
  assert.deepEqual(again!.counts, half!.counts);
});

test('circuit tasks fan out in parallel with CPU tasks and their results merge on the driver', async () => {
  const c = circuit({ shots: 1000, seed: 3 });
  const angles = Array.from({ length: 8 }, (_, i) => (i * Math.PI) / 7);
  const expect1 = remote((theta: number) => Math.sin(theta / 2) ** 2);
  const results = await get(angles.map((theta) => c.remote(ROTATION, { theta })));
  const exact = await get(angles.map((theta) => expect1.remote(theta)));
  results.forEach((r, i) => {
    assert.ok(
      Math.abs((r.counts['1'] ?? 0) / 1000 - exact[i]!) < 0.08,
      `theta ${angles[i]}: ${JSON.stringify(r.counts)} vs p1=${exact[i]}`,
    );
  });
  const rows = await state.listTasks({ filters: [['name', '=', 'circuit']], limit: 1000 });
  assert.ok(rows.every((t) => t.state === 'FINISHED'));
});

test('bad QASM throws QasmError at .remote() with line and column; nothing is submitted', async () => {
  const before = (await state.listTasks({ limit: 100_000 })).length;
  assert.throws(
    () => circuit().remote('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\nfoo q[0];\n'),
    (e: unknown) => {
      assert.ok(e instanceof QasmError);
      assert.equal(e.line, 4);
      assert.equal(e.column, 1);
      assert.match(e.message, /foo/);
      return true;
    },
  );
  assert.throws(
    () => circuit().remote(ROTATION),
    (e: unknown) => e instanceof QasmError && /theta/.test(e.message),
  );
  assert.throws(() => circuit().remote(ROTATION, { theta: Number.NaN }), /theta must be a finite number/);
  assert.throws(() => circuit({ shots: 0 }), /shots must be an integer/);
  assert.equal((await state.listTasks({ limit: 100_000 })).length, before);
});

test('a circuit past the backend qubit limit fails with a BackendError that says what fits', async () => {
  const wide = `OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[24] q;\nh q[0];\n`;
  await assert.rejects(get(circuit().remote(wide)), (e: unknown) => {
    assert.ok(e instanceof TaskError || e instanceof BackendError, String(e));
    assert.match((e as Error).message, /24 qubits/);
    assert.match((e as Error).message, /20 qubits/);
    return true;
  });
});

test('a device option the simulator does not have is a clear error', async () => {
  await assert.rejects(get(circuit({ device: 'ibm_brisbane' }).remote(BELL)), /ibm_brisbane.*simulator/);
});
