/**
 * Fixtures of the transpiler tests: seeded random circuits, IBM-like device targets, and the
 * checks every transpiled circuit must pass (runnable on the target, same outcome distribution).
 */
import assert from 'node:assert/strict';
import type { Circuit, GateName, Operation } from '../../backends/quantum/circuit.ts';
import { transpile, type DeviceTarget } from '../../backends/quantum/transpile/index.ts';
import { assertSameDistribution, PI, referenceDistribution, touchedQubits } from './transpile-reference.ts';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export const ARITY: Record<GateName, [number, number]> = {
  id: [1, 0],
  x: [1, 0],
  y: [1, 0],
  z: [1, 0],
  h: [1, 0],
  s: [1, 0],
  sdg: [1, 0],
  t: [1, 0],
  tdg: [1, 0],
  sx: [1, 0],
  sxdg: [1, 0],
  rx: [1, 1],
  ry: [1, 1],
  rz: [1, 1],
  p: [1, 1],
  u: [1, 3],
  cx: [2, 0],
  cy: [2, 0],
  cz: [2, 0],
  ch: [2, 0],
  swap: [2, 0],
  ecr: [2, 0],
  cp: [2, 1],
  crx: [2, 1],
  cry: [2, 1],
  crz: [2, 1],
  cu: [2, 4],
  rxx: [2, 1],
  ryy: [2, 1],
  rzz: [2, 1],
  ccx: [3, 0],
  cswap: [3, 0],
};
export const ALL_GATES = Object.keys(ARITY) as GateName[];

export function randomAngle(r: () => number): number {
  const special = [0, PI / 2, PI, -PI / 2, PI / 4];
  return r() < 0.25 ? special[Math.floor(r() * special.length)]! : (r() * 2 - 1) * PI;
}

export function pickQubits(r: () => number, n: number, k: number): number[] {
  const qs: number[] = [];
  while (qs.length < k) {
    const q = Math.floor(r() * n);
    if (!qs.includes(q)) qs.push(q);
  }
  return qs;
}

export function makeCircuit(n: number, ops: Operation[], numClbits = n): Circuit {
  const split = Math.max(1, Math.floor(numClbits / 2));
  return {
    numQubits: n,
    numClbits,
    qregs: [{ name: 'q', size: n, offset: 0 }],
    cregs:
      numClbits > 1
        ? [
            { name: 'c', size: split, offset: 0 },
            { name: 'd', size: numClbits - split, offset: split },
          ]
        : [{ name: 'c', size: numClbits, offset: 0 }],
    ops,
  };
}

export function gate(name: GateName, qubits: number[], params: number[] = []): Operation {
  return { kind: 'gate', name, qubits, params };
}

export function measureAllPermuted(r: () => number, n: number): Operation[] {
  const perm = Array.from({ length: n }, (_, i) => i).sort(() => r() - 0.5);
  return perm.map((clbit, q) => ({ kind: 'measure', qubit: q, clbit }));
}

/** A random circuit with every gate kind likely, a barrier, and sometimes a mid-circuit measure and reset. */
export function randomCircuit(seed: number, n: number, length: number): Circuit {
  const r = rng(seed);
  const ops: Operation[] = [];
  for (let i = 0; i < length; i++) {
    const name = ALL_GATES[Math.floor(r() * ALL_GATES.length)]!;
    const [k, np] = ARITY[name];
    if (k > n) continue;
    ops.push(
      gate(
        name,
        pickQubits(r, n, k),
        Array.from({ length: np }, () => randomAngle(r)),
      ),
    );
    if (i === Math.floor(length / 2)) {
      ops.push({ kind: 'barrier', qubits: pickQubits(r, n, 2) });
      if (seed % 3 === 0) ops.push({ kind: 'measure', qubit: 0, clbit: n - 1 }, { kind: 'reset', qubit: 1 });
    }
  }
  return makeCircuit(n, [...ops, ...measureAllPermuted(r, n)]);
}

export const both = (edges: [number, number][]): [number, number][] =>
  edges.flatMap(
    ([a, b]) =>
      [
        [a, b],
        [b, a],
      ] as [number, number][],
  );
export const FALCON_EDGES: [number, number][] = [
  [0, 1],
  [1, 2],
  [1, 4],
  [2, 3],
  [3, 5],
  [4, 7],
  [5, 8],
  [6, 7],
  [7, 10],
  [8, 9],
  [8, 11],
  [10, 12],
  [11, 14],
  [12, 13],
  [12, 15],
  [13, 14],
  [14, 16],
  [15, 18],
  [16, 19],
  [17, 18],
  [18, 21],
  [19, 20],
  [19, 22],
  [21, 23],
  [22, 25],
  [23, 24],
  [24, 25],
  [25, 26],
];
export const TARGETS: Record<string, DeviceTarget> = {
  'manila-line-cx': {
    numQubits: 5,
    basisGates: ['id', 'rz', 'sx', 'x', 'cx'],
    couplingMap: both([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]),
  },
  'belem-T-cx': {
    numQubits: 5,
    basisGates: ['id', 'rz', 'sx', 'x', 'cx'],
    couplingMap: both([
      [0, 1],
      [1, 2],
      [1, 3],
      [3, 4],
    ]),
  },
  'H7-ecr-directional': {
    numQubits: 7,
    basisGates: ['ecr', 'id', 'rz', 'sx', 'x'],
    couplingMap: [
      [0, 1],
      [2, 1],
      [1, 3],
      [5, 3],
      [4, 5],
      [6, 5],
    ],
  },
  'falcon27-cx': { numQubits: 27, basisGates: ['id', 'rz', 'sx', 'x', 'cx'], couplingMap: both(FALCON_EDGES) },
  'falcon27-cz-heron-basis': { numQubits: 27, basisGates: ['cz', 'id', 'rz', 'sx', 'x'], couplingMap: FALCON_EDGES },
  'line6-u-cx-one-way': {
    numQubits: 6,
    basisGates: ['u', 'cx'],
    couplingMap: [
      [1, 0],
      [1, 2],
      [3, 2],
      [3, 4],
      [5, 4],
    ],
  },
  'line6-rz-sx-no-x': {
    numQubits: 6,
    basisGates: ['rz', 'sx', 'cx'],
    couplingMap: both([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 5],
    ]),
  },
  'ring6-rz-ry-cz': {
    numQubits: 6,
    basisGates: ['rz', 'ry', 'cz'],
    couplingMap: [
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 5],
      [5, 0],
    ],
  },
  'ring6-p-rx-ecr': {
    numQubits: 6,
    basisGates: ['p', 'rx', 'ecr'],
    couplingMap: [
      [1, 0],
      [1, 2],
      [2, 3],
      [4, 3],
      [4, 5],
      [0, 5],
    ],
  },
};

/** Structural checks every transpiled circuit must pass. */
export function assertRunnable(out: Circuit, original: Circuit, target: DeviceTarget, label: string): void {
  assert.equal(out.numQubits, target.numQubits, label);
  assert.deepEqual(
    out.qregs.map((r) => [r.size, r.offset]),
    [[target.numQubits, 0]],
    label,
  );
  assert.deepEqual(out.cregs, original.cregs, label);
  assert.equal(out.numClbits, original.numClbits, label);
  const directed = new Set(target.couplingMap.map(([a, b]) => `${a},${b}`));
  for (const op of out.ops) {
    if (op.kind !== 'gate') continue;
    assert.ok(target.basisGates.includes(op.name), `${label}: ${op.name} is not in the basis`);
    assert.ok(op.qubits.length <= 2, `${label}: ${op.name} on ${op.qubits.length} qubits`);
    if (op.qubits.length === 2)
      assert.ok(directed.has(op.qubits.join(',')), `${label}: ${op.name} on [${op.qubits}] not in the coupling map`);
    for (const q of op.qubits) assert.ok(q >= 0 && q < target.numQubits, label);
  }
}

export function assertEquivalent(
  circuit: Circuit,
  target: DeviceTarget,
  label: string,
  seed = 0,
): ReturnType<typeof transpile> {
  const result = transpile(circuit, target, { seed });
  assertRunnable(result.circuit, circuit, target, label);
  const expected = referenceDistribution(
    circuit,
    Array.from({ length: circuit.numQubits }, (_, i) => i),
  );
  const actual = referenceDistribution(result.circuit, touchedQubits(result.circuit));
  assertSameDistribution(expected, actual, label);
  return result;
}
