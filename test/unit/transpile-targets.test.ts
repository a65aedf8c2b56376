/**
 * Transpiler tests: IBM backend configurations and a device-sized circuit. Equivalence is checked
 * with an independent dense state-vector reference (transpile-reference.ts): the outcome
 * distribution over the original classical bits must be the same before and after transpiling, for
 * seeded random circuits on IBM-like targets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GateName, Operation } from '../../backends/quantum/circuit.ts';
import { targetFromIbmConfiguration, transpile } from '../../backends/quantum/transpile/index.ts';
import {
  rng,
  ARITY,
  randomAngle,
  pickQubits,
  makeCircuit,
  gate,
  measureAllPermuted,
  randomCircuit,
  TARGETS,
  assertRunnable,
  assertEquivalent,
} from './transpile-fixtures.ts';

test('targetFromIbmConfiguration reads an IBM backend configuration', () => {
  const config = {
    backend_name: 'ibm_nairobi',
    backend_version: '1.3.3',
    n_qubits: 7,
    basis_gates: ['cx', 'id', 'rz', 'sx', 'x'],
    coupling_map: [
      [0, 1],
      [1, 0],
      [1, 2],
      [1, 3],
      [2, 1],
      [3, 1],
      [3, 5],
      [4, 5],
      [5, 3],
      [5, 4],
      [5, 6],
      [6, 5],
    ],
    gates: [
      {
        name: 'cx',
        parameters: [],
        qasm_def: 'gate cx q0, q1 { CX q0, q1; }',
        coupling_map: [
          [0, 1],
          [1, 0],
        ],
      },
    ],
    local: false,
    simulator: false,
    conditional: false,
    open_pulse: false,
    memory: true,
    max_shots: 100000,
    max_experiments: 300,
    dynamic_reprate_enabled: true,
    supported_instructions: ['cx', 'id', 'delay', 'measure', 'reset', 'rz', 'sx', 'x'],
    processor_type: { family: 'Falcon', revision: 5.11, segment: 'H' },
    online_date: '2021-05-20T04:00:00+00:00',
  };
  const target = targetFromIbmConfiguration(JSON.parse(JSON.stringify(config)));
  assert.equal(target.numQubits, 7);
  assert.deepEqual(target.basisGates, ['cx', 'id', 'rz', 'sx', 'x']);
  assert.deepEqual(target.couplingMap, config.coupling_map);
  assertEquivalent(randomCircuit(17, 5, 30), target, 'nairobi');

  for (const field of ['n_qubits', 'basis_gates', 'coupling_map']) {
    const broken: Record<string, unknown> = { ...config };
    delete broken[field];
    assert.throws(
      () => targetFromIbmConfiguration(broken),
      (e: unknown) => e instanceof TypeError && e.message.includes(field),
    );
  }
  assert.throws(() => targetFromIbmConfiguration({ ...config, coupling_map: [[0, 7]] }), /coupling_map\[0\]/);
  assert.throws(() => targetFromIbmConfiguration(null), TypeError);
});

test('a 27-qubit, 500-gate circuit transpiles onto heavy-hex, runnable, every measurement kept (its time is in npm run bench)', () => {
  const r = rng(2024);
  const names: GateName[] = ['h', 'rz', 'sx', 'cx', 'cz', 'rzz', 'u', 'swap', 'ccx'];
  const ops: Operation[] = [];
  while (ops.length < 500) {
    const g = names[Math.floor(r() * names.length)]!;
    const [k, np] = ARITY[g];
    ops.push(
      gate(
        g,
        pickQubits(r, 27, k),
        Array.from({ length: np }, () => randomAngle(r)),
      ),
    );
  }
  const circuit = makeCircuit(27, [...ops, ...measureAllPermuted(r, 27)]);
  const result = transpile(circuit, TARGETS['falcon27-cx']!);
  assertRunnable(result.circuit, circuit, TARGETS['falcon27-cx']!, 'falcon 500');
  // every original measurement survives, each clbit measured once, from distinct physical qubits
  const measures = result.circuit.ops.filter((op) => op.kind === 'measure');
  assert.equal(measures.length, 27);
  assert.deepEqual(new Set(measures.map((m) => m.clbit)).size, 27);
  assert.deepEqual(new Set(measures.map((m) => m.qubit)).size, 27);
});
