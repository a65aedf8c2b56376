/**
 * Transpiler tests: layout and routing onto coupling maps, seeds and refusals. Equivalence is
 * checked with an independent dense state-vector reference (transpile-reference.ts): the outcome
 * distribution over the original classical bits must be the same before and after transpiling, for
 * seeded random circuits on IBM-like targets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Circuit, Operation } from '../../backends/quantum/circuit.ts';
import { transpile, TranspileError, type DeviceTarget } from '../../backends/quantum/transpile/index.ts';
import {
  rng,
  makeCircuit,
  gate,
  measureAllPermuted,
  randomCircuit,
  both,
  TARGETS,
  assertEquivalent,
} from './transpile-fixtures.ts';

test('no SWAP when the circuit already fits the coupling map under the chosen layout', () => {
  const r = rng(5);
  const chain = (n: number): Circuit =>
    makeCircuit(n, [
      gate('h', [0]),
      ...Array.from({ length: n - 1 }, (_, i) => gate('cx', [i, i + 1])),
      ...measureAllPermuted(r, n),
    ]);
  const star = makeCircuit(4, [
    gate('h', [0]),
    gate('cx', [0, 1]),
    gate('cz', [0, 2]),
    gate('cy', [3, 0]),
    ...measureAllPermuted(r, 4),
  ]);
  const cases: [Circuit, string][] = [
    [chain(5), 'manila-line-cx'],
    [chain(5), 'H7-ecr-directional'],
    [star, 'belem-T-cx'],
    [chain(12), 'falcon27-cx'],
    [chain(6), 'ring6-rz-ry-cz'],
  ];
  for (const [circuit, name] of cases) {
    const result = assertEquivalent(circuit, TARGETS[name]!, name);
    assert.equal(result.swaps, 0, `${name}: ${circuit.numQubits}-qubit pattern fits but got ${result.swaps} swaps`);
    assert.deepEqual(result.finalLayout, result.initialLayout);
  }
  // and in general: whenever every two-qubit gate is coupled under the initial layout, no SWAP is added
  for (const [name, target] of Object.entries(TARGETS)) {
    const coupled = new Set(target.couplingMap.flatMap(([a, b]) => [`${a},${b}`, `${b},${a}`]));
    for (let seed = 1; seed <= 30; seed++) {
      const circuit = randomCircuit(seed, 3, 6);
      if (circuit.ops.some((op) => op.kind === 'gate' && op.qubits.length === 3)) continue;
      const result = transpile(circuit, target, { seed });
      const fits = circuit.ops.every(
        (op) =>
          op.kind !== 'gate' ||
          op.qubits.length === 1 ||
          coupled.has(`${result.initialLayout[op.qubits[0]!]},${result.initialLayout[op.qubits[1]!]}`),
      );
      if (fits) assert.equal(result.swaps, 0, `${name} seed ${seed}`);
      else assert.ok(result.swaps > 0, `${name} seed ${seed}: a gate on uncoupled qubits needs a SWAP`);
    }
  }
});

test('all-to-all interactions on a line need SWAPs and stay equivalent; layouts are permutations', () => {
  const target = TARGETS['manila-line-cx']!;
  const ops: Operation[] = [];
  for (let a = 0; a < 5; a++)
    for (let b = a + 1; b < 5; b++) ops.push(gate('h', [a]), gate('cx', [a, b]), gate('rz', [b], [0.3 * (a + b)]));
  const circuit = makeCircuit(5, [...ops, ...measureAllPermuted(rng(3), 5)]);
  const result = assertEquivalent(circuit, target, 'all-to-all');
  assert.ok(result.swaps > 0);
  assert.ok(result.depth > 0);
  for (const layout of [result.initialLayout, result.finalLayout]) {
    assert.equal(layout.length, 5);
    assert.equal(new Set(layout).size, 5);
    assert.ok(layout.every((p) => p >= 0 && p < 5));
  }
  assert.notDeepEqual(result.finalLayout, result.initialLayout);
});

test('the same seed gives the same output', () => {
  const circuit = randomCircuit(99, 6, 40);
  const a = transpile(circuit, TARGETS['falcon27-cx']!, { seed: 4 });
  const b = transpile(circuit, TARGETS['falcon27-cx']!, { seed: 4 });
  assert.deepEqual(a, b);
});

test('a circuit with more qubits than the device throws TranspileError', () => {
  const circuit = makeCircuit(9, [gate('h', [0]), gate('cx', [0, 8])]);
  assert.throws(
    () => transpile(circuit, TARGETS['manila-line-cx']!),
    (e: unknown) => {
      assert.ok(e instanceof TranspileError);
      assert.equal(e.name, 'TranspileError');
      assert.match(e.message, /circuit uses 9 qubits; device has 5/);
      return true;
    },
  );
  // connected qubits count, not only the total
  const split: DeviceTarget = {
    numQubits: 6,
    basisGates: ['rz', 'sx', 'cx'],
    couplingMap: both([
      [0, 1],
      [1, 2],
      [3, 4],
      [4, 5],
    ]),
  };
  assert.throws(() => transpile(makeCircuit(4, []), split), TranspileError);
});

test('a basis without a native two-qubit gate is rejected with the basis named', () => {
  assert.throws(
    () => transpile(makeCircuit(2, []), { numQubits: 2, basisGates: ['rz', 'sx', 'iswap'], couplingMap: [[0, 1]] }),
    (e: unknown) => e instanceof Error && e.name === 'UnsupportedTargetError' && /iswap/.test(e.message),
  );
});
