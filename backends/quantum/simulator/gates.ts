/**
 * What each IR gate does to the state, in the form the kernels want: the few shapes that have a
 * fast loop (a phase, a diagonal, a bit flip, a swap) are named as such, everything else is a
 * dense 2x2 (optionally controlled) or 4x4 matrix. Conventions are Qiskit's / OpenQASM 3's
 * `stdgates.inc`: `u(θ,φ,λ)` is `U`, `rz(θ) = diag(e^{-iθ/2}, e^{iθ/2})`, and the qubits of a
 * gate are listed controls first.
 */
import type { GateName } from '../circuit.ts';

/**
 * A 2x2 complex matrix, row-major, interleaved: `[re00, im00, re01, im01, re10, im10, re11, im11]`.
 * Row 0 / column 0 is the target qubit's |0>.
 */
export type Mat2 = Float64Array;

/**
 * A 4x4 complex matrix, row-major, interleaved (32 numbers). Basis index `b0 + 2·b1`, where `b0`
 * is the bit of the gate's first qubit: Qiskit's little-endian matrix convention.
 */
export type Mat4 = Float64Array;

/**
 * One gate as the kernels see it. `controls` are flat qubit indices that must all be 1 for the
 * gate to act (empty for plain gates).
 *
 * - `mat1`: dense 2x2 `m` on `target`.
 * - `diag1`: `diag(d0, d1)` on `target` (`d` = `[re0, im0, re1, im1]`).
 * - `x`: bit flip of `target` (a permutation; no arithmetic).
 * - `swap`: exchanges qubits `a` and `b`.
 * - `mat4`: dense 4x4 `m` on `[q0, q1]`.
 * - `diag4`: diagonal 4x4 on `[q0, q1]` (`d` = 4 interleaved complex numbers).
 */
export type GateKernel =
  | { readonly kind: 'mat1'; readonly target: number; readonly controls: readonly number[]; readonly m: Mat2 }
  | { readonly kind: 'diag1'; readonly target: number; readonly controls: readonly number[]; readonly d: Float64Array }
  | { readonly kind: 'x'; readonly target: number; readonly controls: readonly number[] }
  | { readonly kind: 'swap'; readonly a: number; readonly b: number; readonly controls: readonly number[] }
  | { readonly kind: 'mat4'; readonly q0: number; readonly q1: number; readonly m: Mat4 }
  | { readonly kind: 'diag4'; readonly q0: number; readonly q1: number; readonly d: Float64Array };

const R = Math.SQRT1_2;

/** A 2x2 matrix from its four entries given as `[re, im]` pairs. */
function m2(
  a: readonly [number, number],
  b: readonly [number, number],
  c: readonly [number, number],
  d: readonly [number, number],
): Mat2 {
  return Float64Array.of(a[0], a[1], b[0], b[1], c[0], c[1], d[0], d[1]);
}

/** `e^{iθ}` as `[re, im]`. */
function cis(theta: number): [number, number] {
  return [Math.cos(theta), Math.sin(theta)];
}

/** The `U(θ,φ,λ)` matrix of OpenQASM 3 (Qiskit's `UGate`), times the global phase `e^{iγ}`. */
function uMatrix(theta: number, phi: number, lambda: number, gamma = 0): Mat2 {
  const c = Math.cos(theta / 2);
  const s = Math.sin(theta / 2);
  const g = cis(gamma);
  const l = cis(gamma + lambda);
  const p = cis(gamma + phi);
  const pl = cis(gamma + phi + lambda);
  return m2([g[0] * c, g[1] * c], [-l[0] * s, -l[1] * s], [p[0] * s, p[1] * s], [pl[0] * c, pl[1] * c]);
}

/** The 2x2 matrix of a one-qubit gate (also the target part of the controlled gates). */
export function oneQubitMatrix(name: GateName, params: readonly number[]): Mat2 {
  const t = params[0] ?? 0;
  switch (name) {
    case 'id':
      return m2([1, 0], [0, 0], [0, 0], [1, 0]);
    case 'x':
      return m2([0, 0], [1, 0], [1, 0], [0, 0]);
    case 'y':
      return m2([0, 0], [0, -1], [0, 1], [0, 0]);
    case 'z':
      return m2([1, 0], [0, 0], [0, 0], [-1, 0]);
    case 'h':
      return m2([R, 0], [R, 0], [R, 0], [-R, 0]);
    case 's':
      return m2([1, 0], [0, 0], [0, 0], [0, 1]);
    case 'sdg':
      return m2([1, 0], [0, 0], [0, 0], [0, -1]);
    case 't':
      return m2([1, 0], [0, 0], [0, 0], [R, R]);
    case 'tdg':
      return m2([1, 0], [0, 0], [0, 0], [R, -R]);
    case 'sx':
      return m2([0.5, 0.5], [0.5, -0.5], [0.5, -0.5], [0.5, 0.5]);
    case 'sxdg':
      return m2([0.5, -0.5], [0.5, 0.5], [0.5, 0.5], [0.5, -0.5]);
    case 'rx':
      return m2([Math.cos(t / 2), 0], [0, -Math.sin(t / 2)], [0, -Math.sin(t / 2)], [Math.cos(t / 2), 0]);
    case 'ry':
      return m2([Math.cos(t / 2), 0], [-Math.sin(t / 2), 0], [Math.sin(t / 2), 0], [Math.cos(t / 2), 0]);
    case 'rz':
      return m2(cis(-t / 2), [0, 0], [0, 0], cis(t / 2));
    case 'p':
      return m2([1, 0], [0, 0], [0, 0], cis(t));
    case 'u':
      return uMatrix(t, params[1] ?? 0, params[2] ?? 0);
    default:
      throw new RangeError(`gate ${name} is not a one-qubit gate`);
  }
}

/** Whether a 2x2 matrix has zero off-diagonal entries (then the cheaper diagonal kernel applies). */
export function isDiagonal(m: Mat2): boolean {
  return m[2] === 0 && m[3] === 0 && m[4] === 0 && m[5] === 0;
}

function single(target: number, controls: readonly number[], m: Mat2): GateKernel {
  return isDiagonal(m)
    ? { kind: 'diag1', target, controls, d: Float64Array.of(m[0]!, m[1]!, m[6]!, m[7]!) }
    : { kind: 'mat1', target, controls, m };
}

/** Builds a 4x4 interleaved matrix from `[re, im]` rows. */
function m4(rows: readonly (readonly (readonly [number, number])[])[]): Mat4 {
  const m = new Float64Array(32);
  rows.forEach((row, r) => {
    row.forEach(([re, im], c) => {
      m[(r * 4 + c) * 2] = re;
      m[(r * 4 + c) * 2 + 1] = im;
    });
  });
  return m;
}

/** `cos(θ/2)·I − i·sin(θ/2)·P⊗P` for P = X (`sign` 1) or P = Y (`sign` −1: Y⊗Y has −1 in the corners). */
function pauliPairRotation(theta: number, sign: 1 | -1): Mat4 {
  const c = Math.cos(theta / 2);
  const s = Math.sin(theta / 2);
  const z: [number, number] = [0, 0];
  const corner: [number, number] = [0, -s * sign];
  const mid: [number, number] = [0, -s];
  return m4([
    [[c, 0], z, z, corner],
    [z, [c, 0], mid, z],
    [z, mid, [c, 0], z],
    [corner, z, z, [c, 0]],
  ]);
}

/** The kernel for one IR gate on the given flat qubits (controls first, as in the IR). */
export function gateKernel(name: GateName, qubits: readonly number[], params: readonly number[]): GateKernel {
  const [a = 0, b = 0, c = 0] = qubits;
  const t = params[0] ?? 0;
  switch (name) {
    case 'x':
      return { kind: 'x', target: a, controls: [] };
    case 'cx':
      return { kind: 'x', target: b, controls: [a] };
    case 'ccx':
      return { kind: 'x', target: c, controls: [a, b] };
    case 'swap':
      return { kind: 'swap', a, b, controls: [] };
    case 'cswap':
      return { kind: 'swap', a: b, b: c, controls: [a] };
    case 'cy':
      return single(b, [a], oneQubitMatrix('y', []));
    case 'cz':
      return single(b, [a], oneQubitMatrix('z', []));
    case 'ch':
      return single(b, [a], oneQubitMatrix('h', []));
    case 'cp':
      return single(b, [a], oneQubitMatrix('p', [t]));
    case 'crx':
      return single(b, [a], oneQubitMatrix('rx', [t]));
    case 'cry':
      return single(b, [a], oneQubitMatrix('ry', [t]));
    case 'crz':
      return single(b, [a], oneQubitMatrix('rz', [t]));
    case 'cu':
      return single(b, [a], uMatrix(t, params[1] ?? 0, params[2] ?? 0, params[3] ?? 0));
    case 'rxx':
      return { kind: 'mat4', q0: a, q1: b, m: pauliPairRotation(t, 1) };
    case 'ryy':
      return { kind: 'mat4', q0: a, q1: b, m: pauliPairRotation(t, -1) };
    case 'rzz': {
      const lo = cis(-t / 2);
      const hi = cis(t / 2);
      return { kind: 'diag4', q0: a, q1: b, d: Float64Array.of(...lo, ...hi, ...hi, ...lo) };
    }
    case 'ecr': {
      // Qiskit's ECR = (IX − XY)/√2 in its little-endian basis.
      const z: [number, number] = [0, 0];
      return {
        kind: 'mat4',
        q0: a,
        q1: b,
        m: m4([
          [z, [R, 0], z, [0, R]],
          [[R, 0], z, [0, -R], z],
          [z, [0, R], z, [R, 0]],
          [[0, -R], z, [R, 0], z],
        ]),
      };
    }
    default:
      return single(a, [], oneQubitMatrix(name, params));
  }
}
