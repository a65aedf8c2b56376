/**
 * An independent reference for the transpiler tests (not the product simulator): complex
 * matrices, a branching dense state-vector simulator, outcome distributions and their comparison.
 */
import assert from 'node:assert/strict';
import type { Circuit, GateName } from '../../backends/quantum/circuit.ts';

export type C = readonly [number, number];
export type Mat = C[][];
export const c = (re: number, im = 0): C => [re, im];
export const cmul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
export const cadd = (a: C, b: C): C => [a[0] + b[0], a[1] + b[1]];
export const expi = (t: number): C => [Math.cos(t), Math.sin(t)];
export const PI = Math.PI;
export const R = Math.SQRT1_2;

export function matMul(a: Mat, b: Mat): Mat {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, x, k) => cadd(s, cmul(x, b[k]![j]!)), c(0))));
}
export function kron(a: Mat, b: Mat): Mat {
  const n = b.length;
  return Array.from({ length: a.length * n }, (_, i) =>
    Array.from({ length: a.length * n }, (_, j) => cmul(a[Math.floor(i / n)]![Math.floor(j / n)]!, b[i % n]![j % n]!)),
  );
}
export const scale = (m: Mat, s: C): Mat => m.map((r) => r.map((x) => cmul(x, s)));
export const madd = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((x, j) => cadd(x, b[i]![j]!)));
export const eye = (n: number): Mat =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => c(i === j ? 1 : 0)));
/** Control on the most significant bit (the first operand). */
export function controlled(u: Mat): Mat {
  const n = u.length;
  return Array.from({ length: 2 * n }, (_, i) =>
    Array.from({ length: 2 * n }, (_, j) => (i < n ? c(i === j ? 1 : 0) : j < n ? c(0) : u[i - n]![j - n]!)),
  );
}

export const X: Mat = [
  [c(0), c(1)],
  [c(1), c(0)],
];
export const Y: Mat = [
  [c(0), c(0, -1)],
  [c(0, 1), c(0)],
];
export const Z: Mat = [
  [c(1), c(0)],
  [c(0), c(-1)],
];
export const U = (t: number, p: number, l: number): Mat => [
  [c(Math.cos(t / 2)), cmul(expi(l), c(-Math.sin(t / 2)))],
  [cmul(expi(p), c(Math.sin(t / 2))), cmul(expi(p + l), c(Math.cos(t / 2)))],
];
export const rot = (pauli: Mat, t: number): Mat =>
  madd(scale(eye(pauli.length), c(Math.cos(t / 2))), scale(pauli, c(0, -Math.sin(t / 2))));
export const SWAP: Mat = [
  [c(1), c(0), c(0), c(0)],
  [c(0), c(0), c(1), c(0)],
  [c(0), c(1), c(0), c(0)],
  [c(0), c(0), c(0), c(1)],
];

export function refMatrix(name: GateName, p: readonly number[]): Mat {
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

export function applyGate(b: Branch, m: Mat, qubits: readonly number[]): void {
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
export function split(b: Branch, q: number, onOutcome: (nb: Branch, bit: number) => void, flip: boolean): Branch[] {
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
export function referenceDistribution(circuit: Circuit, qubits: readonly number[]): Map<string, number> {
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

export function touchedQubits(circuit: Circuit): number[] {
  const s = new Set<number>();
  for (const op of circuit.ops) {
    if (op.kind === 'gate' || op.kind === 'barrier') for (const q of op.qubits) s.add(q);
    else s.add(op.qubit);
  }
  return [...s].sort((a, b) => a - b);
}

export function assertSameDistribution(a: Map<string, number>, b: Map<string, number>, label: string): void {
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const d = Math.abs((a.get(key) ?? 0) - (b.get(key) ?? 0));
    assert.ok(d < 1e-9, `${label}: P(${key}) ${a.get(key) ?? 0} vs ${b.get(key) ?? 0}`);
  }
}

export function assertEqualUpToPhase(a: Mat, b: Mat, label: string): void {
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
