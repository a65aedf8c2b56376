/**
 * Basis translation: every IR gate becomes one-qubit gates plus the device's native two-qubit
 * gate (cx, ecr or cz), on the direction the coupling map allows. One-qubit gates come out as
 * matrices so the synthesis pass can merge runs of them before writing them in the device basis.
 */
import type { GateName, Operation } from '../circuit.ts';
import { oneQubitGateMatrix, type Matrix2 } from './one-qubit-matrix.ts';
import type { CouplingGraph, NativeTwoQubitGate } from './target.ts';

/** An instruction after translation: a one-qubit unitary, a native two-qubit gate, or a non-gate op. */
export type NativeOp =
  | { readonly kind: 'one'; readonly qubit: number; readonly matrix: Matrix2 }
  | { readonly kind: 'two'; readonly name: NativeTwoQubitGate; readonly qubits: readonly [number, number] }
  | Exclude<Operation, { kind: 'gate' }>;

interface Step {
  readonly name: GateName;
  readonly qubits: readonly number[];
  readonly params: readonly number[];
}

const PI = Math.PI;
const g = (name: GateName, qubits: readonly number[], params: readonly number[] = []): Step => ({
  name,
  qubits,
  params,
});

/** Toffoli with 6 cx (Nielsen & Chuang Fig. 4.9). */
function ccxSteps(a: number, b: number, c: number): Step[] {
  return [
    g('h', [c]),
    g('cx', [b, c]),
    g('tdg', [c]),
    g('cx', [a, c]),
    g('t', [c]),
    g('cx', [b, c]),
    g('tdg', [c]),
    g('cx', [a, c]),
    g('t', [b]),
    g('t', [c]),
    g('h', [c]),
    g('cx', [a, b]),
    g('t', [a]),
    g('tdg', [b]),
    g('cx', [a, b]),
  ];
}

/**
 * Replaces ccx and cswap by one- and two-qubit gates so that layout and routing only ever see
 * pairs of qubits. Other operations pass through unchanged.
 */
export function unrollThreeQubitGates(ops: readonly Operation[]): Operation[] {
  const out: Operation[] = [];
  const push = (steps: Step[]): void => {
    for (const s of steps) out.push({ kind: 'gate', name: s.name, qubits: s.qubits, params: s.params });
  };
  for (const op of ops) {
    if (op.kind === 'gate' && op.name === 'ccx') {
      push(ccxSteps(op.qubits[0]!, op.qubits[1]!, op.qubits[2]!));
    } else if (op.kind === 'gate' && op.name === 'cswap') {
      const [c, a, b] = op.qubits as [number, number, number];
      push([g('cx', [b, a]), ...ccxSteps(c, a, b), g('cx', [b, a])]);
    } else {
      out.push(op);
    }
  }
  return out;
}

function rzzSteps(a: number, b: number, theta: number): Step[] {
  return [g('cx', [a, b]), g('rz', [b], [theta]), g('cx', [a, b])];
}

/** A two-qubit IR gate as one-qubit gates and cx (control first, as in the IR). */
function twoQubitSteps(name: GateName, a: number, b: number, p: readonly number[]): Step[] {
  const t = p[0] ?? 0;
  switch (name) {
    case 'cx':
      return [g('cx', [a, b])];
    case 'cy':
      return [g('sdg', [b]), g('cx', [a, b]), g('s', [b])];
    case 'cz':
      return [g('h', [b]), g('cx', [a, b]), g('h', [b])];
    // controlled-H: H = ry(-π/4)·X·ry(π/4), so conjugating the cx target gives ch
    case 'ch':
      return [g('ry', [b], [PI / 4]), g('cx', [a, b]), g('ry', [b], [-PI / 4])];
    case 'swap':
      return [g('cx', [a, b]), g('cx', [b, a]), g('cx', [a, b])];
    // ECR(a,b) = exp(iπ/4 Z_a X_b)·X_a, and exp(iπ/4 ZX) is rzz(-π/2) with the target in the X basis
    case 'ecr':
      return [g('x', [a]), g('h', [b]), ...rzzSteps(a, b, -PI / 2), g('h', [b])];
    case 'cp':
      return [g('p', [a], [t / 2]), g('cx', [a, b]), g('p', [b], [-t / 2]), g('cx', [a, b]), g('p', [b], [t / 2])];
    case 'crz':
      return [g('rz', [b], [t / 2]), g('cx', [a, b]), g('rz', [b], [-t / 2]), g('cx', [a, b])];
    case 'cry':
      return [g('ry', [b], [t / 2]), g('cx', [a, b]), g('ry', [b], [-t / 2]), g('cx', [a, b])];
    case 'crx':
      return [
        g('h', [b]),
        g('rz', [b], [t / 2]),
        g('cx', [a, b]),
        g('rz', [b], [-t / 2]),
        g('cx', [a, b]),
        g('h', [b]),
      ];
    case 'cu': {
      const [theta, phi, lambda, gamma] = [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0, p[3] ?? 0];
      return [
        g('p', [a], [gamma + (lambda + phi) / 2]),
        g('p', [b], [(lambda - phi) / 2]),
        g('cx', [a, b]),
        g('u', [b], [-theta / 2, 0, -(phi + lambda) / 2]),
        g('cx', [a, b]),
        g('u', [b], [theta / 2, phi, 0]),
      ];
    }
    case 'rzz':
      return rzzSteps(a, b, t);
    case 'rxx':
      return [g('h', [a]), g('h', [b]), ...rzzSteps(a, b, t), g('h', [a]), g('h', [b])];
    // rx(π/2) maps Y to Z by conjugation
    case 'ryy':
      return [
        g('rx', [a], [PI / 2]),
        g('rx', [b], [PI / 2]),
        ...rzzSteps(a, b, t),
        g('rx', [a], [-PI / 2]),
        g('rx', [b], [-PI / 2]),
      ];
    default:
      throw new Error(`twoQubitSteps: ${name} is not a two-qubit gate`);
  }
}

/** cx(c, t) in the native gate, on the direction the coupling map supports. */
function nativeCx(c: number, t: number, native: NativeTwoQubitGate, graph: CouplingGraph): NativeOp[] {
  const one = (name: GateName, q: number, params: readonly number[] = []): NativeOp => ({
    kind: 'one',
    qubit: q,
    matrix: oneQubitGateMatrix(name, params),
  });
  if (native === 'cz') return [one('h', t), nativeCz(c, t, graph), one('h', t)];
  const two = (x: number, y: number): NativeOp => ({ kind: 'two', name: native, qubits: [x, y] });
  const forward = (x: number, y: number): NativeOp[] =>
    native === 'cx'
      ? [two(x, y)]
      : // cx = e^{iπ/4}·(rz(π/2) ⊗ rx(π/2))·ECR·(X ⊗ I), control on the ECR's first qubit
        [one('x', x), two(x, y), one('rz', x, [PI / 2]), one('rx', y, [PI / 2])];
  if (graph.supportsDirection(c, t)) return forward(c, t);
  // H⊗H swaps the roles of control and target of a cx
  return [one('h', c), one('h', t), ...forward(t, c), one('h', c), one('h', t)];
}

/** cz is symmetric: write it the way round the coupling map lists it. */
function nativeCz(a: number, b: number, graph: CouplingGraph): NativeOp {
  return { kind: 'two', name: 'cz', qubits: graph.supportsDirection(a, b) ? [a, b] : [b, a] };
}

/**
 * Translates routed physical operations (one- and two-qubit IR gates on coupled pairs, measure,
 * reset, barrier) into one-qubit matrices and native two-qubit gates in the native direction.
 */
export function translateToNative(
  ops: readonly Operation[],
  graph: CouplingGraph,
  native: NativeTwoQubitGate,
): NativeOp[] {
  const out: NativeOp[] = [];
  for (const op of ops) {
    if (op.kind !== 'gate') {
      out.push(op);
      continue;
    }
    if (op.qubits.length === 1) {
      out.push({ kind: 'one', qubit: op.qubits[0]!, matrix: oneQubitGateMatrix(op.name, op.params) });
      continue;
    }
    if (op.qubits.length !== 2) throw new Error(`translateToNative: ${op.name} must be unrolled before translation`);
    const [a, b] = op.qubits as [number, number];
    if (op.name === 'cz' && native === 'cz') {
      out.push(nativeCz(a, b, graph));
    } else if (op.name === native && graph.supportsDirection(a, b)) {
      out.push({ kind: 'two', name: native, qubits: [a, b] });
    } else {
      for (const s of twoQubitSteps(op.name, a, b, op.params)) {
        if (s.qubits.length === 1) {
          out.push({ kind: 'one', qubit: s.qubits[0]!, matrix: oneQubitGateMatrix(s.name, s.params) });
        } else {
          out.push(...nativeCx(s.qubits[0]!, s.qubits[1]!, native, graph));
        }
      }
    }
  }
  return out;
}
