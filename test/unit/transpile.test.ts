/**
 * Transpiler tests. Equivalence is checked with an independent dense state-vector reference
 * written here (not the product simulator): the outcome distribution over the original classical
 * bits must be the same before and after transpiling, for seeded random circuits on IBM-like targets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Circuit, GateName, Operation } from '../../backends/quantum/circuit.ts';
import {
  synthesizeOneQubit,
  targetFromIbmConfiguration,
  transpile,
  TranspileError,
  type DeviceTarget,
} from '../../backends/quantum/transpile/index.ts';

// ---------- reference: complex matrices and a branching state-vector simulator ----------

type C = readonly [number, number];
type Mat = C[][];
const c = (re: number, im = 0): C => [re, im];
const cmul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const cadd = (a: C, b: C): C => [a[0] + b[0], a[1] + b[1]];
const expi = (t: number): C => [Math.cos(t), Math.sin(t)];
const PI = Math.PI;
const R = Math.SQRT1_2;

function matMul(a: Mat, b: Mat): Mat {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, x, k) => cadd(s, cmul(x, b[k]![j]!)), c(0))));
}
function kron(a: Mat, b: Mat): Mat {
  const n = b.length;
  return Array.from({ length: a.length * n }, (_, i) =>
    Array.from({ length: a.length * n }, (_, j) => cmul(a[Math.floor(i / n)]![Math.floor(j / n)]!, b[i % n]![j % n]!)),
  );
}
const scale = (m: Mat, s: C): Mat => m.map((r) => r.map((x) => cmul(x, s)));
const madd = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((x, j) => cadd(x, b[i]![j]!)));
const eye = (n: number): Mat =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => c(i === j ? 1 : 0)));
/** Control on the most significant bit (the first operand). */
function controlled(u: Mat): Mat {
  const n = u.length;
  return Array.from({ length: 2 * n }, (_, i) =>
    Array.from({ length: 2 * n }, (_, j) => (i < n ? c(i === j ? 1 : 0) : j < n ? c(0) : u[i - n]![j - n]!)),
  );
}

const X: Mat = [
  [c(0), c(1)],
  [c(1), c(0)],
];
const Y: Mat = [
  [c(0), c(0, -1)],
  [c(0, 1), c(0)],
];
const Z: Mat = [
  [c(1), c(0)],
  [c(0), c(-1)],
];
const U = (t: number, p: number, l: number): Mat => [
  [c(Math.cos(t / 2)), cmul(expi(l), c(-Math.sin(t / 2)))],
  [cmul(expi(p), c(Math.sin(t / 2))), cmul(expi(p + l), c(Math.cos(t / 2)))],
];
const rot = (pauli: Mat, t: number): Mat =>
  madd(scale(eye(pauli.length), c(Math.cos(t / 2))), scale(pauli, c(0, -Math.sin(t / 2))));
const SWAP: Mat = [
  [c(1), c(0), c(0), c(0)],
  [c(0), c(0), c(1), c(0)],
  [c(0), c(1), c(0), c(0)],
  [c(0), c(0), c(0), c(1)],
];

function refMatrix(name: GateName, p: readonly number[]): Mat {
  const t = p[0] ?? 0;
  switch (name) {
    case 'id':
      return eye(2);
    case 'x':
      return X;
    case 'y':
      return Y;
    case 'z':
      return Z;
    case 'h':
      return [
        [c(R), c(R)],
        [c(R), c(-R)],
      ];
    case 's':
      return [
        [c(1), c(0)],
        [c(0), c(0, 1)],
      ];
    case 'sdg':
      return [
        [c(1), c(0)],
        [c(0), c(0, -1)],
      ];
    case 't':
      return [
        [c(1), c(0)],
        [c(0), expi(PI / 4)],
      ];
    case 'tdg':
      return [
        [c(1), c(0)],
        [c(0), expi(-PI / 4)],
      ];
    case 'sx':
      return [
        [c(0.5, 0.5), c(0.5, -0.5)],
        [c(0.5, -0.5), c(0.5, 0.5)],
      ];
    case 'sxdg':
      return [
        [c(0.5, -0.5), c(0.5, 0.5)],
        [c(0.5, 0.5), c(0.5, -0.5)],
      ];
    case 'rx':
      return rot(X, t);
    case 'ry':
      return rot(Y, t);
    case 'rz':
      return rot(Z, t);
    case 'p':
      return [
        [c(1), c(0)],
        [c(0), expi(t)],
      ];
    case 'u':
      return U(t, p[1]!, p[2]!);
    case 'cx':
      return controlled(X);
    case 'cy':
      return controlled(Y);
    case 'cz':
      return controlled(Z);
    case 'ch':
      return controlled(refMatrix('h', []));
    case 'swap':
      return SWAP;
    case 'ecr':
      return scale(madd(kron(X, eye(2)), scale(kron(Y, X), c(-1))), c(R));
    case 'cp':
      return controlled(refMatrix('p', [t]));
    case 'crx':
      return controlled(rot(X, t));
    case 'cry':
      return controlled(rot(Y, t));
    case 'crz':
      return controlled(rot(Z, t));
    case 'cu':
      return controlled(scale(U(t, p[1]!, p[2]!), expi(p[3]!)));
    case 'rxx':
      return rot(kron(X, X), t);
    case 'ryy':
      return rot(kron(Y, Y), t);
    case 'rzz':
      return rot(kron(Z, Z), t);
    case 'ccx':
      return controlled(controlled(X));
    case 'cswap':
      return controlled(SWAP);
  }
}

interface Branch {
  re: Float64Array;
  im: Float64Array;
  bits: number[];
  p: number;
}

function applyGate(b: Branch, m: Mat, qubits: readonly number[]): void {
  const k = qubits.length;
  const d = 1 << k;
  const mask = qubits.reduce((s, q) => s | (1 << q), 0);
  const idx = new Array<number>(d);
  const vr = new Array<number>(d);
  const vi = new Array<number>(d);
  for (let base = 0; base < b.re.length; base++) {
    if (base & mask) continue;
    for (let s = 0; s < d; s++) {
      let i = base;
      for (let j = 0; j < k; j++) if (s & (1 << (k - 1 - j))) i |= 1 << qubits[j]!;
      idx[s] = i;
      vr[s] = b.re[i]!;
      vi[s] = b.im[i]!;
    }
    for (let r = 0; r < d; r++) {
      let sr = 0,
        si = 0;
      for (let s = 0; s < d; s++) {
        const [mr, mi] = m[r]![s]!;
        sr += mr * vr[s]! - mi * vi[s]!;
        si += mr * vi[s]! + mi * vr[s]!;
      }
      b.re[idx[r]!] = sr;
      b.im[idx[r]!] = si;
    }
  }
}

/** Splits a branch on qubit q's value; `flip` resets a 1 outcome to 0. */
function split(b: Branch, q: number, onOutcome: (nb: Branch, bit: number) => void, flip: boolean): Branch[] {
  const out: Branch[] = [];
  for (const bit of [0, 1]) {
    let p = 0;
    for (let i = 0; i < b.re.length; i++) if (((i >> q) & 1) === bit) p += b.re[i]! ** 2 + b.im[i]! ** 2;
    if (p < 1e-14) continue;
    const nb: Branch = {
      re: new Float64Array(b.re.length),
      im: new Float64Array(b.re.length),
      bits: [...b.bits],
      p: b.p * p,
    };
    const norm = 1 / Math.sqrt(p);
    for (let i = 0; i < b.re.length; i++) {
      if (((i >> q) & 1) !== bit) continue;
      const j = flip && bit === 1 ? i & ~(1 << q) : i;
      nb.re[j] = b.re[i]! * norm;
      nb.im[j] = b.im[i]! * norm;
    }
    onOutcome(nb, bit);
    out.push(nb);
  }
  return out;
}

/** Outcome distribution over the classical bits (clbit 0 rightmost), simulating only `qubits`. */
function referenceDistribution(circuit: Circuit, qubits: readonly number[]): Map<string, number> {
  const local = new Map(qubits.map((q, i) => [q, i]));
  const n = qubits.length;
  assert.ok(n <= 16, `reference simulator limited to 16 qubits, circuit touches ${n}`);
  const re = new Float64Array(1 << n);
  re[0] = 1;
  let branches: Branch[] = [{ re, im: new Float64Array(1 << n), bits: new Array(circuit.numClbits).fill(0), p: 1 }];
  let lastUnitary = -1;
  circuit.ops.forEach((op, i) => {
    if (op.kind === 'gate' || op.kind === 'reset') lastUnitary = i;
  });
  const finalMeasures: { q: number; clbit: number }[] = [];
  circuit.ops.forEach((op, i) => {
    const L = (q: number): number => local.get(q)!;
    if (op.kind === 'gate') for (const b of branches) applyGate(b, refMatrix(op.name, op.params), op.qubits.map(L));
    else if (op.kind === 'reset') branches = branches.flatMap((b) => split(b, L(op.qubit), () => {}, true));
    else if (op.kind === 'measure' && i > lastUnitary) finalMeasures.push({ q: L(op.qubit), clbit: op.clbit });
    else if (op.kind === 'measure')
      branches = branches.flatMap((b) =>
        split(
          b,
          L(op.qubit),
          (nb, bit) => {
            nb.bits[op.clbit] = bit;
          },
          false,
        ),
      );
  });
  const dist = new Map<string, number>();
  for (const b of branches) {
    for (let i = 0; i < b.re.length; i++) {
      const p = b.p * (b.re[i]! ** 2 + b.im[i]! ** 2);
      if (p < 1e-15) continue;
      const bits = [...b.bits];
      for (const m of finalMeasures) bits[m.clbit] = (i >> m.q) & 1;
      const key = bits.reverse().join('');
      dist.set(key, (dist.get(key) ?? 0) + p);
    }
  }
  return dist;
}

function touchedQubits(circuit: Circuit): number[] {
  const s = new Set<number>();
  for (const op of circuit.ops) {
    if (op.kind === 'gate' || op.kind === 'barrier') for (const q of op.qubits) s.add(q);
    else s.add(op.qubit);
  }
  return [...s].sort((a, b) => a - b);
}

function assertSameDistribution(a: Map<string, number>, b: Map<string, number>, label: string): void {
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const d = Math.abs((a.get(key) ?? 0) - (b.get(key) ?? 0));
    assert.ok(d < 1e-9, `${label}: P(${key}) ${a.get(key) ?? 0} vs ${b.get(key) ?? 0}`);
  }
}

// ---------- random circuits and targets ----------

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const ARITY: Record<GateName, [number, number]> = {
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
const ALL_GATES = Object.keys(ARITY) as GateName[];

function randomAngle(r: () => number): number {
  const special = [0, PI / 2, PI, -PI / 2, PI / 4];
  return r() < 0.25 ? special[Math.floor(r() * special.length)]! : (r() * 2 - 1) * PI;
}

function pickQubits(r: () => number, n: number, k: number): number[] {
  const qs: number[] = [];
  while (qs.length < k) {
    const q = Math.floor(r() * n);
    if (!qs.includes(q)) qs.push(q);
  }
  return qs;
}

function makeCircuit(n: number, ops: Operation[], numClbits = n): Circuit {
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

function gate(name: GateName, qubits: number[], params: number[] = []): Operation {
  return { kind: 'gate', name, qubits, params };
}

function measureAllPermuted(r: () => number, n: number): Operation[] {
  const perm = Array.from({ length: n }, (_, i) => i).sort(() => r() - 0.5);
  return perm.map((clbit, q) => ({ kind: 'measure', qubit: q, clbit }));
}

/** A random circuit with every gate kind likely, a barrier, and sometimes a mid-circuit measure and reset. */
function randomCircuit(seed: number, n: number, length: number): Circuit {
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

const both = (edges: [number, number][]): [number, number][] =>
  edges.flatMap(
    ([a, b]) =>
      [
        [a, b],
        [b, a],
      ] as [number, number][],
  );
const FALCON_EDGES: [number, number][] = [
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
const TARGETS: Record<string, DeviceTarget> = {
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
function assertRunnable(out: Circuit, original: Circuit, target: DeviceTarget, label: string): void {
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

function assertEquivalent(
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

// ---------- tests ----------

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

function assertEqualUpToPhase(a: Mat, b: Mat, label: string): void {
  // phase from the largest entry of b
  let best: [number, number] = [0, 0];
  b.forEach((row, i) => {
    row.forEach((x, j) => {
      if (Math.hypot(...x) > Math.hypot(...b[best[0]]![best[1]]!)) best = [i, j];
    });
  });
  const [bi, bj] = best;
  const ref = b[bi]![bj]!;
  const got = a[bi]![bj]!;
  const ratio = cmul(got, [ref[0] / (ref[0] ** 2 + ref[1] ** 2), -ref[1] / (ref[0] ** 2 + ref[1] ** 2)]);
  assert.ok(Math.abs(Math.hypot(...ratio) - 1) < 1e-9, `${label}: not unit phase`);
  b.forEach((row, i) => {
    row.forEach((x, j) => {
      const y = cmul(x, ratio);
      assert.ok(Math.hypot(y[0] - a[i]![j]![0], y[1] - a[i]![j]![1]) < 1e-9, `${label}: entry ${i},${j}`);
    });
  });
}

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

test('a 27-qubit, 500-gate circuit transpiles onto heavy-hex in under a second', () => {
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
  const started = performance.now();
  const result = transpile(circuit, TARGETS['falcon27-cx']!);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms`);
  assertRunnable(result.circuit, circuit, TARGETS['falcon27-cx']!, 'falcon 500');
  // every original measurement survives, each clbit measured once, from distinct physical qubits
  const measures = result.circuit.ops.filter((op) => op.kind === 'measure');
  assert.equal(measures.length, 27);
  assert.deepEqual(new Set(measures.map((m) => m.clbit)).size, 27);
  assert.deepEqual(new Set(measures.map((m) => m.qubit)).size, 27);
});
