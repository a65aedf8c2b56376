/**
 * 2×2 unitaries of the IR's one-qubit gates, their products, and the ZYZ Euler angles of any
 * 2×2 unitary: what lets the transpiler merge a run of one-qubit gates into one and re-emit it.
 */
import type { GateName } from '../circuit.ts';

/** A 2×2 complex matrix, row-major: `[re00, im00, re01, im01, re10, im10, re11, im11]`. */
export type Matrix2 = readonly [number, number, number, number, number, number, number, number];

/** The identity. */
export const IDENTITY2: Matrix2 = [1, 0, 0, 0, 0, 0, 1, 0];

/** `a · b` (b applied first, then a). */
export function multiply2(a: Matrix2, b: Matrix2): Matrix2 {
  const el = (i: number, j: number): [number, number] => {
    // sum over k of a[i][k] * b[k][j]
    const a0r = a[i * 2 * 2]!,
      a0i = a[i * 2 * 2 + 1]!,
      a1r = a[(i * 2 + 1) * 2]!,
      a1i = a[(i * 2 + 1) * 2 + 1]!;
    const b0r = b[j * 2]!,
      b0i = b[j * 2 + 1]!,
      b1r = b[(2 + j) * 2]!,
      b1i = b[(2 + j) * 2 + 1]!;
    return [a0r * b0r - a0i * b0i + a1r * b1r - a1i * b1i, a0r * b0i + a0i * b0r + a1r * b1i + a1i * b1r];
  };
  const [r00, i00] = el(0, 0);
  const [r01, i01] = el(0, 1);
  const [r10, i10] = el(1, 0);
  const [r11, i11] = el(1, 1);
  return [r00, i00, r01, i01, r10, i10, r11, i11];
}

const S2 = Math.SQRT1_2;

/** OpenQASM 3's U(θ, φ, λ). */
export function uMatrix(theta: number, phi: number, lambda: number): Matrix2 {
  const c = Math.cos(theta / 2);
  const s = Math.sin(theta / 2);
  return [
    c,
    0,
    -Math.cos(lambda) * s,
    -Math.sin(lambda) * s,
    Math.cos(phi) * s,
    Math.sin(phi) * s,
    Math.cos(phi + lambda) * c,
    Math.sin(phi + lambda) * c,
  ];
}

function diagonal(phase0: number, phase1: number): Matrix2 {
  return [Math.cos(phase0), Math.sin(phase0), 0, 0, 0, 0, Math.cos(phase1), Math.sin(phase1)];
}

/** The matrix of a one-qubit IR gate; throws for multi-qubit names (a caller bug). */
export function oneQubitGateMatrix(name: GateName, params: readonly number[]): Matrix2 {
  const t = params[0] ?? 0;
  switch (name) {
    case 'id':
      return IDENTITY2;
    case 'x':
      return [0, 0, 1, 0, 1, 0, 0, 0];
    case 'y':
      return [0, 0, 0, -1, 0, 1, 0, 0];
    case 'z':
      return [1, 0, 0, 0, 0, 0, -1, 0];
    case 'h':
      return [S2, 0, S2, 0, S2, 0, -S2, 0];
    case 's':
      return diagonal(0, Math.PI / 2);
    case 'sdg':
      return diagonal(0, -Math.PI / 2);
    case 't':
      return diagonal(0, Math.PI / 4);
    case 'tdg':
      return diagonal(0, -Math.PI / 4);
    case 'sx':
      return [0.5, 0.5, 0.5, -0.5, 0.5, -0.5, 0.5, 0.5];
    case 'sxdg':
      return [0.5, -0.5, 0.5, 0.5, 0.5, 0.5, 0.5, -0.5];
    case 'rx':
      return [Math.cos(t / 2), 0, 0, -Math.sin(t / 2), 0, -Math.sin(t / 2), Math.cos(t / 2), 0];
    case 'ry':
      return [Math.cos(t / 2), 0, -Math.sin(t / 2), 0, Math.sin(t / 2), 0, Math.cos(t / 2), 0];
    case 'rz':
      return diagonal(-t / 2, t / 2);
    case 'p':
      return diagonal(0, t);
    case 'u':
      return uMatrix(t, params[1] ?? 0, params[2] ?? 0);
    default:
      throw new Error(`oneQubitGateMatrix: ${name} is not a one-qubit gate`);
  }
}

/** Angles with `m = e^{iγ} · U(theta, phi, lambda)` for some global phase γ; theta in [0, π]. */
export interface EulerAngles {
  readonly theta: number;
  readonly phi: number;
  readonly lambda: number;
}

/**
 * ZYZ decomposition: U(θ, φ, λ) equals Rz(φ)·Ry(θ)·Rz(λ) up to phase, so after dividing out
 * det^{1/2} the diagonal and off-diagonal phases give (φ+λ)/2 and (φ−λ)/2 directly.
 */
export function eulerAngles(m: Matrix2): EulerAngles {
  const [ar, ai, br, bi, cr, ci, dr, di] = m;
  const detR = ar * dr - ai * di - (br * cr - bi * ci);
  const detI = ar * di + ai * dr - (br * ci + bi * cr);
  const halfArg = -Math.atan2(detI, detR) / 2;
  const pr = Math.cos(halfArg);
  const pi = Math.sin(halfArg);
  // phase-normalised entries of the SU(2) matrix
  const a = [ar * pr - ai * pi, ar * pi + ai * pr] as const;
  const c = [cr * pr - ci * pi, cr * pi + ci * pr] as const;
  const d = [dr * pr - di * pi, dr * pi + di * pr] as const;
  const theta = 2 * Math.atan2(Math.hypot(c[0], c[1]), Math.hypot(a[0], a[1]));
  const sumHalf = Math.atan2(d[1], d[0]);
  const diffHalf = Math.atan2(c[1], c[0]);
  return { theta, phi: sumHalf + diffHalf, lambda: sumHalf - diffHalf };
}
