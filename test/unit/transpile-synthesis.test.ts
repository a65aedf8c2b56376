/**
 * Transpiler tests: the reference itself, the U decomposition and one-qubit synthesis. Equivalence
 * is checked with an independent dense state-vector reference (transpile-reference.ts): the
 * outcome distribution over the original classical bits must be the same before and after
 * transpiling, for seeded random circuits on IBM-like targets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Operation } from '../../backends/quantum/circuit.ts';
import { synthesizeOneQubit } from '../../backends/quantum/transpile/index.ts';
import { PI, matMul, eye, U, refMatrix, referenceDistribution, assertEqualUpToPhase } from './transpile-reference.ts';
import {
  rng,
  ARITY,
  ALL_GATES,
  randomAngle,
  makeCircuit,
  gate,
  measureAllPermuted,
  randomCircuit,
  TARGETS,
  assertEquivalent,
} from './transpile-fixtures.ts';

test('the reference simulator agrees with hand-computed distributions', () => {
  const bell = makeCircuit(2, [
    gate('h', [0]),
    gate('cx', [0, 1]),
    { kind: 'measure', qubit: 0, clbit: 0 },
    { kind: 'measure', qubit: 1, clbit: 1 },
  ]);
  const d = referenceDistribution(bell, [0, 1]);
  assert.deepEqual([...d.keys()].sort(), ['00', '11']);
  assert.ok(Math.abs(d.get('00')! - 0.5) < 1e-12);
  // ry(θ) then measure: P(1) = sin²(θ/2); clbit 1 gets it, so the key is "10"
  const ry = makeCircuit(1, [gate('ry', [0], [1.1]), { kind: 'measure', qubit: 0, clbit: 1 }], 2);
  assert.ok(Math.abs(referenceDistribution(ry, [0]).get('10')! - Math.sin(0.55) ** 2) < 1e-12);
  // x on the control of ccx flips the target only when both controls are 1
  const tof = makeCircuit(3, [
    gate('x', [0]),
    gate('x', [1]),
    gate('ccx', [0, 1, 2]),
    ...[0, 1, 2].map((q): Operation => ({ kind: 'measure', qubit: q, clbit: q })),
  ]);
  assert.deepEqual([...referenceDistribution(tof, [0, 1, 2]).keys()], ['111']);
});

test('U(θ,φ,λ) equals rz(φ+π)·sx·rz(θ+π)·sx·rz(λ) up to global phase', () => {
  const r = rng(7);
  for (let i = 0; i < 50; i++) {
    const [t, p, l] = [randomAngle(r), randomAngle(r), randomAngle(r)];
    const product = [
      refMatrix('rz', [l]),
      refMatrix('sx', []),
      refMatrix('rz', [t + PI]),
      refMatrix('sx', []),
      refMatrix('rz', [p + PI]),
    ].reduce((acc, m) => matMul(m, acc), eye(2));
    assertEqualUpToPhase(product, U(t, p, l), `U(${t}, ${p}, ${l})`);
  }
});

test('one-qubit synthesis reproduces the unitary in every supported basis, special angles included', () => {
  const bases = [
    { kind: 'zsx', z: 'rz', hasX: true },
    { kind: 'zsx', z: 'rz', hasX: false },
    { kind: 'zsx', z: 'p', hasX: true },
    { kind: 'u', z: 'rz', hasX: false },
    { kind: 'zry', z: 'rz', hasX: false },
    { kind: 'zrx', z: 'p', hasX: false },
  ] as const;
  const r = rng(11);
  const angles: [number, number, number][] = [
    [0, 0, 0],
    [0, 0.3, 0.4],
    [PI / 2, 0.2, -1],
    [PI, 0.7, 0.1],
    [PI, 0, 0],
    [PI / 2, 0, PI],
  ];
  for (let i = 0; i < 30; i++) angles.push([randomAngle(r), randomAngle(r), randomAngle(r)]);
  for (const basis of bases) {
    for (const [t, p, l] of angles) {
      const m = U(t, p, l);
      const flat = [m[0]![0]!, m[0]![1]!, m[1]![0]!, m[1]![1]!].flat() as unknown as Parameters<
        typeof synthesizeOneQubit
      >[0];
      const ops = synthesizeOneQubit(flat, 0, basis);
      const product = ops.reduce((acc, op) => {
        assert.equal(op.kind, 'gate');
        const g = op as Extract<Operation, { kind: 'gate' }>;
        const allowed: string[] =
          basis.kind === 'u'
            ? ['u']
            : [basis.z, basis.kind === 'zsx' ? 'sx' : basis.kind === 'zry' ? 'ry' : 'rx', ...(basis.hasX ? ['x'] : [])];
        assert.ok(allowed.includes(g.name), `${g.name} not in ${allowed}`);
        return matMul(refMatrix(g.name, g.params), acc);
      }, eye(2));
      assertEqualUpToPhase(product, m, `${basis.kind}/${basis.z} U(${t},${p},${l})`);
      if (basis.kind === 'zsx') assert.ok(ops.filter((o) => o.kind === 'gate' && o.name === 'sx').length <= 2);
    }
    // identity up to phase is dropped entirely
    assert.equal(synthesizeOneQubit([0, 1, 0, 0, 0, 0, 0, 1], 0, basis).length, 0);
  }
});

for (const [name, target] of Object.entries(TARGETS)) {
  test(`every gate kind alone, between random layers, keeps the distribution on ${name}`, () => {
    const r = rng(name.length * 101);
    for (const g of ALL_GATES) {
      const [k, np] = ARITY[g];
      const layer = (): Operation[] =>
        [0, 1, 2].map((q) => gate('u', [q], [randomAngle(r), randomAngle(r), randomAngle(r)]));
      const qs = k === 1 ? [1] : k === 2 ? [2, 0] : [2, 0, 1];
      const circuit = makeCircuit(3, [
        ...layer(),
        gate(
          g,
          qs,
          Array.from({ length: np }, () => randomAngle(r)),
        ),
        ...layer(),
        ...measureAllPermuted(r, 3),
      ]);
      assertEquivalent(circuit, target, `${name} ${g}`);
    }
  });

  test(`random circuits (3-6 qubits, all gate kinds) keep their distribution on ${name}`, () => {
    for (let seed = 1; seed <= 12; seed++) {
      const n = Math.min(3 + (seed % 4), target.numQubits);
      assertEquivalent(randomCircuit(seed * 7919 + name.length, n, 24), target, `${name} seed ${seed}`, seed);
    }
  });
}
