/**
 * A parameter sweep as one parameterised device circuit (transpile/parameterised.ts and the
 * emitter's `symbolicAngles`): the emitted OpenQASM 3, bound with each row of parameter_values,
 * has the statevector of the bound circuit transpiled the ordinary way (up to global phase).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQasm, qasmInputs, toQasm3 } from '../../backends/quantum/qasm/index.ts';
import { transpile, UnsupportedTargetError } from '../../backends/quantum/transpile/index.ts';
import { SweepStructureError, transpileParameterised } from '../../backends/quantum/transpile/parameterised.ts';
import { finalState } from '../../backends/quantum/simulator/index.ts';
import type { Circuit } from '../../backends/quantum/circuit.ts';
import { TARGETS } from './transpile-fixtures.ts';

const ANSATZ = `OPENQASM 3.0;
include "stdgates.inc";
input float[64] a;
input float[64] b;
qubit[3] q;
bit[3] c;
h q[0];
ry(a) q[0];
cx q[0], q[1];
rz(b) q[1];
crx(a / 2) q[1], q[2];
x q[2];
h q[2];
rzz(0.3) q[0], q[2];
c = measure q;
`;

const ROWS = [
  { a: 0.1, b: 2.0 },
  { a: -1.3, b: 0 },
  { a: Math.PI, b: Math.PI / 2 },
  { a: 0, b: 0 },
];

/** |<x|y>| = 1 when x and y are the same state up to a global phase. */
function assertSameState(x: Circuit, y: Circuit, label: string): void {
  const s = finalState(x);
  const t = finalState(y);
  let re = 0;
  let im = 0;
  for (let i = 0; i < s.re.length; i++) {
    re += s.re[i]! * t.re[i]! + s.im[i]! * t.im[i]!;
    im += s.re[i]! * t.im[i]! - s.im[i]! * t.re[i]!;
  }
  assert.ok(Math.abs(Math.hypot(re, im) - 1) < 1e-9, `${label}: overlap ${Math.hypot(re, im)}`);
}

for (const name of ['manila-line-cx', 'H7-ecr-directional', 'belem-T-cx'] as const) {
  test(`a sweep on ${name}: each row bound into the emitted QASM gives the bound circuit's state`, () => {
    const target = TARGETS[name]!;
    const bound = ROWS.map((r) => parseQasm(ANSATZ, r));
    const swept = transpileParameterised(bound, target, { seed: 3 });
    assert.equal(swept.parameterValues.length, ROWS.length);
    assert.ok(swept.parameters.length > 0);
    for (const row of swept.parameterValues) assert.equal(row.length, swept.parameters.length);
    const qasm = toQasm3(swept.circuit, { physicalQubits: true, symbolicAngles: swept.symbolicAngles });
    // Qiskit orders a circuit's parameters by name: the declared inputs sort into the row order.
    assert.deepEqual(qasmInputs(qasm), [...swept.parameters]);
    assert.deepEqual([...swept.parameters].sort(), swept.parameters);
    ROWS.forEach((_, i) => {
      const values = Object.fromEntries(swept.parameters.map((p, k) => [p, swept.parameterValues[i]![k]!]));
      const fromPub = parseQasm(qasm, values);
      const ordinary = transpile(bound[i]!, target, { seed: 3 }).circuit;
      assertSameState(fromPub, ordinary, `${name} row ${i}`);
    });
  });
}

test('runs whose angles no binding changes are synthesised the short way; only varying rz become inputs', () => {
  const program = `OPENQASM 3.0;
include "stdgates.inc";
input float[64] t;
qubit[2] q;
bit[2] c;
h q[0];
h q[1];
cx q[0], q[1];
rz(t) q[1];
cx q[0], q[1];
c = measure q;
`;
  const target = TARGETS['manila-line-cx']!;
  const bound = [0.2, 0.9, 1.7].map((t) => parseQasm(program, { t }));
  const swept = transpileParameterised(bound, target);
  // One run varies (the one holding rz(t)): at most its three rz angles become inputs.
  assert.ok(swept.parameters.length >= 1 && swept.parameters.length <= 3, `${swept.parameters.length} inputs`);
  const free = [...swept.symbolicAngles.keys()].map((i) => swept.circuit.ops[i]!);
  assert.equal(new Set(free.map((o) => (o.kind === 'gate' ? o.qubits[0] : -1))).size, 1, 'all on one qubit');
  const gates = swept.circuit.ops.filter((o) => o.kind === 'gate' && o.qubits.length === 1).length;
  const general = transpile(bound[0]!, target, { generalOneQubitForm: true }).circuit.ops.filter(
    (o) => o.kind === 'gate' && o.qubits.length === 1,
  ).length;
  assert.ok(gates < general, `constant runs were shortened (${gates} < ${general})`);
});

test('a single row and a sweep with no varying angle give a circuit without inputs', () => {
  const bound = [parseQasm(ANSATZ, ROWS[0]), parseQasm(ANSATZ, ROWS[0])];
  const swept = transpileParameterised(bound, TARGETS['manila-line-cx']!);
  assert.deepEqual(swept.parameters, []);
  assert.deepEqual(swept.parameterValues, [[], []]);
  assert.doesNotMatch(toQasm3(swept.circuit, { physicalQubits: true, symbolicAngles: swept.symbolicAngles }), /input/);
});

test('bindings that change the circuit beyond its angles, and bases without rz+sx, are refused clearly', () => {
  const a = parseQasm('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[0];\ncx q[0], q[1];\n');
  const b = parseQasm('OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[0];\ncx q[1], q[0];\n');
  assert.throws(() => transpileParameterised([a, b], TARGETS['H7-ecr-directional']!), SweepStructureError);
  assert.throws(
    () => transpileParameterised([a, a], TARGETS['line6-u-cx-one-way']!),
    (e: unknown) =>
      e instanceof UnsupportedTargetError && /free parameters needs a one-qubit basis of rz and sx/.test(e.message),
  );
});
