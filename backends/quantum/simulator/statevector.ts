/**
 * The state vector and the loops that change it. Amplitudes live in two Float64Arrays (real and
 * imaginary parts) indexed little-endian: bit k of the index is qubit k, as in Qiskit.
 *
 * The loops are written out per gate shape, with no allocation or function call per amplitude:
 * they run 2^n times per gate and are the whole cost of a simulation. Controlled gates visit only
 * the indices whose control bits are set, by inserting the fixed bits into a running counter.
 */
import type { GateKernel, Mat2, Mat4 } from './gates.ts';

/** An n-qubit state: `re[i] + i·im[i]` is the amplitude of basis state `i`. */
export interface StateVector {
  readonly numQubits: number;
  readonly re: Float64Array;
  readonly im: Float64Array;
}

/** |0…0> on `numQubits` qubits (callers check capacity first). */
export function zeroState(numQubits: number): StateVector {
  const dim = 2 ** numQubits;
  const re = new Float64Array(dim);
  const im = new Float64Array(dim);
  re[0] = 1;
  return { numQubits, re, im };
}

/**
 * Ascending bit positions and their low masks, for enumerating the indices whose bits at those
 * positions are zero: the counter's bits are spread around the fixed positions.
 */
function spreadPlan(positions: readonly number[]): { pos: Int32Array; low: Int32Array } {
  const sorted = [...positions].sort((x, y) => x - y);
  return { pos: Int32Array.from(sorted), low: Int32Array.from(sorted, (p) => (1 << p) - 1) };
}

function maskOf(qubits: readonly number[]): number {
  let m = 0;
  for (const q of qubits) m |= 1 << q;
  return m;
}

/** Applies one gate kernel to the state in place. */
export function applyKernel(state: StateVector, k: GateKernel): void {
  switch (k.kind) {
    case 'mat1':
      if (k.controls.length === 0) applyMat1(state, k.target, k.m);
      else applyControlledMat1(state, k.target, k.controls, k.m);
      return;
    case 'diag1':
      if (k.d[0] === 1 && k.d[1] === 0) applyPhase(state, [k.target, ...k.controls], k.d[2]!, k.d[3]!);
      else applyDiag1(state, k.target, k.controls, k.d);
      return;
    case 'x':
      applyX(state, k.target, k.controls);
      return;
    case 'swap':
      applySwap(state, k.a, k.b, k.controls);
      return;
    case 'mat4':
      applyMat4(state, k.q0, k.q1, k.m);
      return;
    case 'diag4':
      applyDiag4(state, k.q0, k.q1, k.d);
      return;
  }
}

/** Dense 2x2 on `target`: the pair loop over blocks of stride 2^target. */
function applyMat1(state: StateVector, target: number, m: Mat2): void {
  const { re, im } = state;
  const dim = re.length;
  const stride = 1 << target;
  const ar = m[0]!,
    ai = m[1]!,
    br = m[2]!,
    bi = m[3]!,
    cr = m[4]!,
    ci = m[5]!,
    dr = m[6]!,
    di = m[7]!;
  for (let base = 0; base < dim; base += stride << 1) {
    const end = base + stride;
    for (let i = base; i < end; i++) {
      const j = i + stride;
      const xr = re[i]!,
        xi = im[i]!,
        yr = re[j]!,
        yi = im[j]!;
      re[i] = ar * xr - ai * xi + br * yr - bi * yi;
      im[i] = ar * xi + ai * xr + br * yi + bi * yr;
      re[j] = cr * xr - ci * xi + dr * yr - di * yi;
      im[j] = cr * xi + ci * xr + dr * yi + di * yr;
    }
  }
}

function applyControlledMat1(state: StateVector, target: number, controls: readonly number[], m: Mat2): void {
  const { re, im } = state;
  const { pos, low } = spreadPlan([target, ...controls]);
  const np = pos.length;
  const ctrl = maskOf(controls);
  const stride = 1 << target;
  const count = re.length >>> np;
  const ar = m[0]!,
    ai = m[1]!,
    br = m[2]!,
    bi = m[3]!,
    cr = m[4]!,
    ci = m[5]!,
    dr = m[6]!,
    di = m[7]!;
  for (let r = 0; r < count; r++) {
    let i = r;
    for (let b = 0; b < np; b++) i = ((i >>> pos[b]!) << (pos[b]! + 1)) | (i & low[b]!);
    i |= ctrl;
    const j = i | stride;
    const xr = re[i]!,
      xi = im[i]!,
      yr = re[j]!,
      yi = im[j]!;
    re[i] = ar * xr - ai * xi + br * yr - bi * yi;
    im[i] = ar * xi + ai * xr + br * yi + bi * yr;
    re[j] = cr * xr - ci * xi + dr * yr - di * yi;
    im[j] = cr * xi + ci * xr + dr * yi + di * yr;
  }
}

/** Multiplies by `pr + i·pi` every amplitude whose bits at `qubits` are all 1 (z, s, t, p, cz, cp, ...). */
function applyPhase(state: StateVector, qubits: readonly number[], pr: number, pi: number): void {
  const { re, im } = state;
  if (qubits.length === 1) {
    const stride = 1 << qubits[0]!;
    const dim = re.length;
    for (let base = stride; base < dim; base += stride << 1) {
      const end = base + stride;
      for (let i = base; i < end; i++) {
        const xr = re[i]!,
          xi = im[i]!;
        re[i] = pr * xr - pi * xi;
        im[i] = pr * xi + pi * xr;
      }
    }
    return;
  }
  const { pos, low } = spreadPlan(qubits);
  const np = pos.length;
  const all = maskOf(qubits);
  const count = re.length >>> np;
  for (let r = 0; r < count; r++) {
    let i = r;
    for (let b = 0; b < np; b++) i = ((i >>> pos[b]!) << (pos[b]! + 1)) | (i & low[b]!);
    i |= all;
    const xr = re[i]!,
      xi = im[i]!;
    re[i] = pr * xr - pi * xi;
    im[i] = pr * xi + pi * xr;
  }
}

/** `diag(d0, d1)` on `target`, on the indices whose control bits are set (rz, crz). */
function applyDiag1(state: StateVector, target: number, controls: readonly number[], d: Float64Array): void {
  const { re, im } = state;
  const { pos, low } = spreadPlan([target, ...controls]);
  const np = pos.length;
  const ctrl = maskOf(controls);
  const stride = 1 << target;
  const count = re.length >>> np;
  const ar = d[0]!,
    ai = d[1]!,
    br = d[2]!,
    bi = d[3]!;
  for (let r = 0; r < count; r++) {
    let i = r;
    for (let b = 0; b < np; b++) i = ((i >>> pos[b]!) << (pos[b]! + 1)) | (i & low[b]!);
    i |= ctrl;
    const j = i | stride;
    const xr = re[i]!,
      xi = im[i]!,
      yr = re[j]!,
      yi = im[j]!;
    re[i] = ar * xr - ai * xi;
    im[i] = ar * xi + ai * xr;
    re[j] = br * yr - bi * yi;
    im[j] = br * yi + bi * yr;
  }
}

/** Bit flip of `target` where the controls are set (x, cx, ccx): swaps amplitude pairs. */
function applyX(state: StateVector, target: number, controls: readonly number[]): void {
  const { re, im } = state;
  const stride = 1 << target;
  if (controls.length === 0) {
    const dim = re.length;
    for (let base = 0; base < dim; base += stride << 1) {
      const end = base + stride;
      for (let i = base; i < end; i++) {
        const j = i + stride;
        const tr = re[i]!,
          ti = im[i]!;
        re[i] = re[j]!;
        im[i] = im[j]!;
        re[j] = tr;
        im[j] = ti;
      }
    }
    return;
  }
  const { pos, low } = spreadPlan([target, ...controls]);
  const np = pos.length;
  const ctrl = maskOf(controls);
  const count = re.length >>> np;
  for (let r = 0; r < count; r++) {
    let i = r;
    for (let b = 0; b < np; b++) i = ((i >>> pos[b]!) << (pos[b]! + 1)) | (i & low[b]!);
    i |= ctrl;
    const j = i | stride;
    const tr = re[i]!,
      ti = im[i]!;
    re[i] = re[j]!;
    im[i] = im[j]!;
    re[j] = tr;
    im[j] = ti;
  }
}

/** Exchanges qubits `qa` and `qb` where the controls are set (swap, cswap): swaps |…1…0…> with |…0…1…>. */
function applySwap(state: StateVector, qa: number, qb: number, controls: readonly number[]): void {
  const { re, im } = state;
  const { pos, low } = spreadPlan([qa, qb, ...controls]);
  const np = pos.length;
  const ctrl = maskOf(controls);
  const ba = 1 << qa;
  const bb = 1 << qb;
  const count = re.length >>> np;
  for (let r = 0; r < count; r++) {
    let i = r;
    for (let b = 0; b < np; b++) i = ((i >>> pos[b]!) << (pos[b]! + 1)) | (i & low[b]!);
    i |= ctrl;
    const x = i | ba;
    const y = i | bb;
    const tr = re[x]!,
      ti = im[x]!;
    re[x] = re[y]!;
    im[x] = im[y]!;
    re[y] = tr;
    im[y] = ti;
  }
}

/** Dense 4x4 on `[q0, q1]` (ecr, rxx, ryy, and fused two-qubit blocks). */
function applyMat4(state: StateVector, q0: number, q1: number, m: Mat4): void {
  const { re, im } = state;
  const { pos, low } = spreadPlan([q0, q1]);
  const p0 = pos[0]!,
    p1 = pos[1]!,
    l0 = low[0]!,
    l1 = low[1]!;
  const b0 = 1 << q0;
  const b1 = 1 << q1;
  const count = re.length >>> 2;
  const [
    m0r,
    m0i,
    m1r,
    m1i,
    m2r,
    m2i,
    m3r,
    m3i,
    m4r,
    m4i,
    m5r,
    m5i,
    m6r,
    m6i,
    m7r,
    m7i,
    m8r,
    m8i,
    m9r,
    m9i,
    m10r,
    m10i,
    m11r,
    m11i,
    m12r,
    m12i,
    m13r,
    m13i,
    m14r,
    m14i,
    m15r,
    m15i,
  ] = m;
  for (let r = 0; r < count; r++) {
    let i = ((r >>> p0) << (p0 + 1)) | (r & l0);
    i = ((i >>> p1) << (p1 + 1)) | (i & l1);
    const i1 = i | b0,
      i2 = i | b1,
      i3 = i1 | b1;
    const xr0 = re[i]!,
      xi0 = im[i]!,
      xr1 = re[i1]!,
      xi1 = im[i1]!;
    const xr2 = re[i2]!,
      xi2 = im[i2]!,
      xr3 = re[i3]!,
      xi3 = im[i3]!;
    re[i] = m0r * xr0 - m0i * xi0 + m1r * xr1 - m1i * xi1 + m2r * xr2 - m2i * xi2 + m3r * xr3 - m3i * xi3;
    im[i] = m0r * xi0 + m0i * xr0 + m1r * xi1 + m1i * xr1 + m2r * xi2 + m2i * xr2 + m3r * xi3 + m3i * xr3;
    re[i1] = m4r * xr0 - m4i * xi0 + m5r * xr1 - m5i * xi1 + m6r * xr2 - m6i * xi2 + m7r * xr3 - m7i * xi3;
    im[i1] = m4r * xi0 + m4i * xr0 + m5r * xi1 + m5i * xr1 + m6r * xi2 + m6i * xr2 + m7r * xi3 + m7i * xr3;
    re[i2] = m8r * xr0 - m8i * xi0 + m9r * xr1 - m9i * xi1 + m10r * xr2 - m10i * xi2 + m11r * xr3 - m11i * xi3;
    im[i2] = m8r * xi0 + m8i * xr0 + m9r * xi1 + m9i * xr1 + m10r * xi2 + m10i * xr2 + m11r * xi3 + m11i * xr3;
    re[i3] = m12r * xr0 - m12i * xi0 + m13r * xr1 - m13i * xi1 + m14r * xr2 - m14i * xi2 + m15r * xr3 - m15i * xi3;
    im[i3] = m12r * xi0 + m12i * xr0 + m13r * xi1 + m13i * xr1 + m14r * xi2 + m14i * xr2 + m15r * xi3 + m15i * xr3;
  }
}

/** Diagonal 4x4 on `[q0, q1]` (rzz): one multiply per amplitude, selected by the two bits. */
function applyDiag4(state: StateVector, q0: number, q1: number, d: Float64Array): void {
  const { re, im } = state;
  const dim = re.length;
  for (let i = 0; i < dim; i++) {
    const k = (((i >>> q0) & 1) | (((i >>> q1) & 1) << 1)) << 1;
    const pr = d[k]!,
      pi = d[k + 1]!;
    const xr = re[i]!,
      xi = im[i]!;
    re[i] = pr * xr - pi * xi;
    im[i] = pr * xi + pi * xr;
  }
}

/** The probability that `qubit` reads 1 (the state need not be normalised; divide by `norm`). */
export function probabilityOfOne(state: StateVector, qubit: number): { one: number; norm: number } {
  const { re, im } = state;
  const bit = 1 << qubit;
  let one = 0;
  let norm = 0;
  for (let i = 0; i < re.length; i++) {
    const p = re[i]! * re[i]! + im[i]! * im[i]!;
    norm += p;
    if (i & bit) one += p;
  }
  return { one, norm };
}

/**
 * Projects `qubit` onto `outcome` and renormalises (`kept` is the probability mass of that
 * outcome, from probabilityOfOne).
 */
export function collapse(state: StateVector, qubit: number, outcome: 0 | 1, kept: number): void {
  const { re, im } = state;
  const bit = 1 << qubit;
  const want = outcome === 1 ? bit : 0;
  const scale = 1 / Math.sqrt(kept);
  for (let i = 0; i < re.length; i++) {
    if ((i & bit) === want) {
      re[i] = re[i]! * scale;
      im[i] = im[i]! * scale;
    } else {
      re[i] = 0;
      im[i] = 0;
    }
  }
}
