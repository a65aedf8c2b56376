import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQasm } from '../../backends/quantum/qasm/index.ts';
import { applyLayout, parseObservables, qubitWiseGroups } from '../../backends/quantum/observables.ts';
import { estimateOnSimulator } from '../../backends/quantum/simulator-estimator.ts';
import type { EstimatorRun } from '../../backends/quantum/estimator-run.ts';
import type { ObservableSpec } from '../../backends/quantum/observables.ts';

const BELL = `OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c = measure q;
`;

/** cos(θ/2)|01> + sin(θ/2)|10> (|q1 q0>): the H2 ground state lies on this line. */
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
/** <IZ> = -cos θ, <ZI> = cos θ, <ZZ> = -1, <XX> = sin θ on H2_LINE. */
const h2Energy = (t: number) => H2.II - H2.IZ * Math.cos(t) + H2.ZI * Math.cos(t) - H2.ZZ + H2.XX * Math.sin(t);

const SIM = { name: 'sim', kind: 'quantum-simulator' as const };

function run(
  qasm: string,
  observables: ObservableSpec[],
  more: Partial<EstimatorRun> = {},
  params?: Record<string, number>,
): EstimatorRun {
  const circuit = parseQasm(qasm, params);
  return {
    circuit,
    source: qasm,
    observables: parseObservables(observables, circuit.numQubits),
    device: undefined,
    signal: new AbortController().signal,
    report: () => {},
    log: () => {},
    ...more,
  };
}

test('observables: Pauli strings and sums parse; bad ones throw a TypeError naming the observable', () => {
  assert.deepEqual(parseObservables('XZ', 2), [{ terms: [{ pauli: 'XZ', coeff: 1 }] }]);
  assert.deepEqual(parseObservables([{ ZZ: 0.5, XI: -1 }], 2)[0]!.terms, [
    { pauli: 'ZZ', coeff: 0.5 },
    { pauli: 'XI', coeff: -1 },
  ]);
  assert.throws(
    () => parseObservables(['ZZ', 'ZZZ'], 2),
    /observable 1 \("ZZZ"\).*3 letters but the circuit has 2 qubits/,
  );
  assert.throws(() => parseObservables(['ZA'], 2), /observable 0 \("ZA"\).*only the letters I, X, Y, Z/);
  assert.throws(
    () => parseObservables([{ ZZ: Number.NaN }], 2),
    /observable 0 .*coefficient of ZZ must be a finite real number/,
  );
  assert.throws(() => parseObservables([{ ZZ: '1' as unknown as number }], 2), /coefficient of ZZ/);
  assert.throws(() => parseObservables([{}], 2), /has no terms/);
  assert.throws(() => parseObservables([42 as unknown as string], 2), /observable 0 \(42\) must be a Pauli string/);
  assert.throws(() => parseObservables([], 2), /at least one/);
  for (const bad of [['zz'], [{ __proto__: 1 }]])
    assert.throws(() => parseObservables(bad as ObservableSpec[], 2), TypeError);
});

test('qubit-wise commuting groups share one measurement basis', () => {
  assert.deepEqual(qubitWiseGroups(['IZ', 'ZI', 'ZZ', 'XX', 'II', 'XI']), [
    { basis: 'ZZ', members: [0, 1, 2] },
    { basis: 'XX', members: [3, 5] },
  ]);
});

test('layout mapping puts each virtual qubit letter on its physical qubit (qubit 0 rightmost)', () => {
  // virtual 0 -> physical 3, virtual 1 -> physical 1 on a 5-qubit device.
  assert.deepEqual(applyLayout({ terms: [{ pauli: 'XZ', coeff: 2 }] }, [3, 1], 5).terms, [
    { pauli: 'IZIXI', coeff: 2 },
  ]);
});

test('exact: Bell state <ZZ>=1, <XX>=1, <YY>=-1, <ZI>=0, <IZ>=0, stds 0; measurements are ignored', () => {
  const r = estimateOnSimulator(SIM, run(BELL, ['ZZ', 'XX', 'YY', 'ZI', 'IZ', { ZZ: 0.5, XX: 0.25, II: 1 }]));
  const want = [1, 1, -1, 0, 0, 1.75];
  for (const [i, v] of r.values.entries()) assert.ok(Math.abs(v - want[i]!) < 1e-12, `${i}: ${v}`);
  assert.deepEqual(r.stds, [0, 0, 0, 0, 0, 0]);
  assert.equal(r.device, 'simulator');
});

test('exact: Y on one qubit and the qubit order of a Pauli string', () => {
  // |q1 q0> = |0>⊗(|0> + i|1>)/√2 : <IY> = 1 (Y on qubit 0), <YI> = 0, <IX> = 0.
  const q = `OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[0];\ns q[0];\nx q[1];\n`;
  const r = estimateOnSimulator(SIM, run(q, ['IY', 'YI', 'IX', 'ZI', 'IZ']));
  const want = [1, 0, 0, -1, 0];
  for (const [i, v] of r.values.entries()) assert.ok(Math.abs(v - want[i]!) < 1e-12, `${i}: ${v}`);
});

test('exact: the H2 Hamiltonian at known angles, and its minimum is the ground energy -1.8573 Ha', () => {
  for (const t of [0, Math.PI / 2, 1.1, -0.4]) {
    const r = estimateOnSimulator(SIM, run(H2_LINE, [H2], {}, { theta: t }));
    assert.ok(Math.abs(r.values[0]! - h2Energy(t)) < 1e-12, `theta ${t}: ${r.values[0]} vs ${h2Energy(t)}`);
  }
  // E(θ) = A + B cos θ + C sin θ is lowest at θ = atan2(-C, -B).
  const tMin = Math.atan2(-H2.XX, -(H2.ZI - H2.IZ));
  const e = estimateOnSimulator(SIM, run(H2_LINE, [H2], {}, { theta: tMin })).values[0]!;
  assert.ok(Math.abs(e - -1.857275) < 1e-5, `ground ${e}`);
});

test('sampled: Bell values within 5 sigma, stds match (1 - e²)/shots; the same seed repeats', () => {
  const shots = 20_000;
  const r = estimateOnSimulator(SIM, run(BELL, ['ZZ', 'XX', 'ZI', { ZZ: 1, ZI: 1 }], { shots }), 7);
  assert.ok(Math.abs(r.values[0]! - 1) < 1e-12 && r.stds[0] === 0, 'ZZ is certain');
  assert.ok(Math.abs(r.values[1]! - 1) < 1e-12 && r.stds[1] === 0, 'XX is certain');
  const sd = Math.sqrt(1 / shots);
  assert.ok(Math.abs(r.values[2]!) < 5 * sd, `ZI ${r.values[2]}`);
  assert.ok(Math.abs(r.stds[2]! - sd) < 0.05 * sd, `std ${r.stds[2]} vs ${sd}`);
  assert.ok(Math.abs(r.values[3]! - 1) < 5 * sd, `ZZ+ZI ${r.values[3]}`);
  const again = estimateOnSimulator(SIM, run(BELL, ['ZZ', 'XX', 'ZI', { ZZ: 1, ZI: 1 }], { shots }), 7);
  assert.deepEqual([again.values, again.stds], [r.values, r.stds]);
});

test('sampled: H2 energy with precision 0.005 lands within 5 stds of the exact value', () => {
  const t = 1.1;
  const r = estimateOnSimulator(SIM, run(H2_LINE, [H2], { precision: 0.005 }, { theta: t }), 3);
  assert.ok(r.stds[0]! > 0 && r.stds[0]! < 0.005, `std ${r.stds[0]}`);
  assert.ok(Math.abs(r.values[0]! - h2Energy(t)) < 5 * r.stds[0]!, `${r.values[0]} vs ${h2Energy(t)} ± ${r.stds[0]}`);
});

test('exact estimation of a circuit with a reset fails, saying to give shots', () => {
  const q = `OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nh q[0];\nreset q[0];\n`;
  assert.throws(() => estimateOnSimulator(SIM, run(q, ['Z'])), /reset.*give the estimator shots or precision/);
  assert.equal(estimateOnSimulator(SIM, run(q, ['Z'], { shots: 100 }), 1).values[0], 1);
});

test('sampled: the reported std matches the spread of repeated estimates (H2, terms in two bases, correlated terms in one)', () => {
  const t = 0.9;
  const values: number[] = [];
  const stds: number[] = [];
  for (let seed = 0; seed < 300; seed++) {
    const r = estimateOnSimulator(SIM, run(H2_LINE, [H2], { shots: 400 }, { theta: t }), seed * 7919);
    values.push(r.values[0]!);
    stds.push(r.stds[0]!);
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const spread = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
  const reported = stds.reduce((a, b) => a + b, 0) / stds.length;
  assert.ok(Math.abs(mean - h2Energy(t)) < (4 * spread) / Math.sqrt(values.length), `mean ${mean} vs ${h2Energy(t)}`);
  assert.ok(Math.abs(spread / reported - 1) < 0.15, `spread ${spread} vs reported ${reported}`);
});
