/**
 * One-qubit synthesis: merges each run of consecutive one-qubit gates on a qubit into one 2×2
 * unitary, drops it when it is the identity up to phase, and writes it in the device's
 * one-qubit basis from its Euler angles. Global phase is dropped: after translation no gate is
 * controlled, so it cannot be observed.
 */
import type { GateName, Operation } from '../circuit.ts';
import type { NativeOp } from './basis-translation.ts';
import { eulerAngles, multiply2, type Matrix2 } from './one-qubit-matrix.ts';
import type { OneQubitBasis } from './target.ts';

/** Angles closer than this to a special value are treated as equal to it. */
const ANGLE_TOLERANCE = 1e-10;
const PI = Math.PI;

/** Wraps an angle into (−π, π]. */
function wrap(angle: number): number {
  let a = angle % (2 * PI);
  if (a <= -PI) a += 2 * PI;
  if (a > PI) a -= 2 * PI;
  return a;
}

function near(a: number, b: number): boolean {
  return Math.abs(a - b) < ANGLE_TOLERANCE;
}

/**
 * A one-qubit unitary as gates of the basis (in circuit order), up to global phase. The rz+sx
 * form uses U(θ,φ,λ) ≅ rz(φ+π)·sx·rz(θ+π)·sx·rz(λ), with one-sx and x shortcuts for θ = π/2, π.
 */
export function synthesizeOneQubit(matrix: Matrix2, qubit: number, basis: OneQubitBasis, general = false): Operation[] {
  const { theta, phi, lambda } = eulerAngles(matrix);
  const out: Operation[] = [];
  const gate = (name: GateName, params: readonly number[] = []): void => {
    out.push({ kind: 'gate', name, qubits: [qubit], params });
  };
  // The one general form, whatever the angles: every binding of a sweep gives the same gate list
  // (transpile() accepts `general` for an rz+sx basis only).
  if (general && basis.kind === 'zsx') {
    gate(basis.z, [wrap(lambda)]);
    gate('sx');
    gate(basis.z, [wrap(theta + PI)]);
    gate('sx');
    gate(basis.z, [wrap(phi + PI)]);
    return out;
  }
  const z = (angle: number): void => {
    const a = wrap(angle);
    if (!near(a, 0)) gate(basis.z, [a]);
  };
  if (near(theta, 0)) {
    if (basis.kind === 'u') {
      if (!near(wrap(phi + lambda), 0)) gate('u', [0, 0, wrap(phi + lambda)]);
    } else {
      z(phi + lambda);
    }
    return out;
  }
  switch (basis.kind) {
    case 'u':
      gate('u', [theta, wrap(phi), wrap(lambda)]);
      break;
    case 'zry':
      z(lambda);
      gate('ry', [theta]);
      z(phi);
      break;
    case 'zrx':
      // Rz(φ)·Ry(θ)·Rz(λ) = Rz(φ+π/2)·Rx(θ)·Rz(λ−π/2)
      z(lambda - PI / 2);
      gate('rx', [theta]);
      z(phi + PI / 2);
      break;
    case 'zsx':
      if (near(theta, PI / 2)) {
        z(lambda - PI / 2);
        gate('sx');
        z(phi + PI / 2);
      } else if (near(theta, PI) && basis.hasX) {
        gate('x');
        z(phi - lambda - PI);
      } else {
        z(lambda);
        gate('sx');
        z(theta + PI);
        gate('sx');
        z(phi + PI);
      }
      break;
  }
  return out;
}

/**
 * Merges one-qubit runs and writes them in the basis (`general`: every run in the one general
 * form, see {@link TranspileOptions.generalOneQubitForm}). A run ends at any other operation that
 * touches its qubit (two-qubit gate, measure, reset, barrier), so nothing moves across those.
 */
export function synthesizeOneQubitRuns(
  ops: readonly NativeOp[],
  numQubits: number,
  basis: OneQubitBasis,
  general = false,
): Operation[] {
  const pending: (Matrix2 | undefined)[] = new Array(numQubits).fill(undefined);
  const out: Operation[] = [];
  const flush = (q: number): void => {
    const m = pending[q];
    if (m === undefined) return;
    pending[q] = undefined;
    out.push(...synthesizeOneQubit(m, q, basis, general));
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'one': {
        const m = pending[op.qubit];
        pending[op.qubit] = m === undefined ? op.matrix : multiply2(op.matrix, m);
        break;
      }
      case 'two':
        flush(op.qubits[0]);
        flush(op.qubits[1]);
        out.push({ kind: 'gate', name: op.name, qubits: op.qubits, params: [] });
        break;
      case 'measure':
      case 'reset':
        flush(op.qubit);
        out.push(op);
        break;
      case 'barrier':
        for (const q of op.qubits) flush(q);
        out.push(op);
        break;
    }
  }
  for (let q = 0; q < numQubits; q++) flush(q);
  return out;
}
