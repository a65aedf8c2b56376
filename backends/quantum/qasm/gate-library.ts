/**
 * The gates a program may call without defining them (qelib1.inc, stdgates.inc, OpenQASM 3
 * built-ins), how each maps onto IR gates, and how `ctrl @` / `inv @` rewrite IR gates.
 */
import { GATE_ARITY, type GateName, type Operation } from '../circuit.ts';

/**
 * An operation while gates are expanded: the IR operations plus the global phase, which is
 * dropped at the top level but matters once a gate is controlled (ctrl @ gphase(a) is p(a)).
 */
export type ExpandedOp = Operation | { readonly kind: 'gphase'; readonly theta: number };

/** A gate known without a definition: its arity and how it becomes IR operations. */
export interface BuiltinGate {
  readonly name: string;
  readonly qubits: number;
  readonly params: number;
  expand(params: readonly number[], qubits: readonly number[], out: ExpandedOp[]): void;
}

function irGate(name: GateName): BuiltinGate {
  const { qubits, params } = GATE_ARITY[name];
  return {
    name,
    qubits,
    params,
    expand: (p, q, out) => {
      out.push({ kind: 'gate', name, qubits: q, params: p });
    },
  };
}

function alias(
  name: string,
  target: GateName,
  qubits: number,
  params: number,
  map: (p: readonly number[]) => readonly number[] = (p) => p,
): BuiltinGate {
  return {
    name,
    qubits,
    params,
    expand: (p, q, out) => {
      out.push({ kind: 'gate', name: target, qubits: q, params: map(p) });
    },
  };
}

const GPHASE: BuiltinGate = {
  name: 'gphase',
  qubits: 0,
  params: 1,
  expand: (p, _q, out) => {
    out.push({ kind: 'gphase', theta: p[0]! });
  },
};

/** Every builtin gate by the name a program calls it with. */
export const BUILTIN_GATES: ReadonlyMap<string, BuiltinGate> = new Map<string, BuiltinGate>([
  ...(Object.keys(GATE_ARITY) as GateName[]).map((name) => [name, irGate(name)] as const),
  ['U', alias('U', 'u', 1, 3)],
  ['u3', alias('u3', 'u', 1, 3)],
  ['u2', alias('u2', 'u', 1, 2, (p) => [Math.PI / 2, p[0]!, p[1]!])],
  ['u1', alias('u1', 'p', 1, 1)],
  ['phase', alias('phase', 'p', 1, 1)],
  ['u0', alias('u0', 'id', 1, 1, () => [])],
  ['CX', alias('CX', 'cx', 2, 0)],
  ['cnot', alias('cnot', 'cx', 2, 0)],
  ['cphase', alias('cphase', 'cp', 2, 1)],
  ['cu1', alias('cu1', 'cp', 2, 1)],
  ['cu3', alias('cu3', 'cu', 2, 3, (p) => [p[0]!, p[1]!, p[2]!, 0])],
  ['toffoli', alias('toffoli', 'ccx', 3, 0)],
  ['fredkin', alias('fredkin', 'cswap', 3, 0)],
  ['gphase', GPHASE],
]);

/** Returned by `controlOp` when an operation has no controlled form among the IR gates. */
export interface NoControlledForm {
  readonly uncontrollable: string;
}

/** IR gates whose controlled form is an IR gate; parameters of the controlled gate from the original's. */
const CONTROLLED: Partial<
  Record<GateName, { readonly name: GateName; readonly params: (p: readonly number[]) => number[] }>
> = {
  x: { name: 'cx', params: () => [] },
  y: { name: 'cy', params: () => [] },
  z: { name: 'cz', params: () => [] },
  h: { name: 'ch', params: () => [] },
  s: { name: 'cp', params: () => [Math.PI / 2] },
  sdg: { name: 'cp', params: () => [-Math.PI / 2] },
  t: { name: 'cp', params: () => [Math.PI / 4] },
  tdg: { name: 'cp', params: () => [-Math.PI / 4] },
  p: { name: 'cp', params: (p) => [p[0]!] },
  rx: { name: 'crx', params: (p) => [p[0]!] },
  ry: { name: 'cry', params: (p) => [p[0]!] },
  rz: { name: 'crz', params: (p) => [p[0]!] },
  u: { name: 'cu', params: (p) => [p[0]!, p[1]!, p[2]!, 0] },
  swap: { name: 'cswap', params: () => [] },
  cx: { name: 'ccx', params: () => [] },
};

/** Gates `ctrl @` accepts, for error messages. */
export const CONTROLLABLE_GATES: readonly string[] = [...Object.keys(CONTROLLED), 'gphase', 'id'];

/** The operation with one more control qubit in front, or why that is not an IR gate. */
export function controlOp(op: ExpandedOp, control: number): ExpandedOp | null | NoControlledForm {
  switch (op.kind) {
    case 'gphase':
      return { kind: 'gate', name: 'p', qubits: [control], params: [op.theta] };
    case 'barrier':
      return op;
    case 'gate': {
      if (op.name === 'id') return null;
      const target = CONTROLLED[op.name];
      if (target === undefined) return { uncontrollable: op.name };
      return { kind: 'gate', name: target.name, qubits: [control, ...op.qubits], params: target.params(op.params) };
    }
    default:
      return { uncontrollable: op.kind };
  }
}

const SELF_INVERSE = new Set<GateName>([
  'id',
  'x',
  'y',
  'z',
  'h',
  'cx',
  'cy',
  'cz',
  'ch',
  'swap',
  'ecr',
  'ccx',
  'cswap',
]);
const SWAPPED_INVERSE: Partial<Record<GateName, GateName>> = {
  s: 'sdg',
  sdg: 's',
  t: 'tdg',
  tdg: 't',
  sx: 'sxdg',
  sxdg: 'sx',
};

/** The inverse of an operation; every IR gate has one among the IR gates. */
export function invertOp(op: ExpandedOp): ExpandedOp {
  if (op.kind === 'gphase') return { kind: 'gphase', theta: -op.theta };
  if (op.kind !== 'gate' || SELF_INVERSE.has(op.name)) return op;
  const swapped = SWAPPED_INVERSE[op.name];
  if (swapped !== undefined) return { ...op, name: swapped };
  const p = op.params;
  if (op.name === 'u') return { ...op, params: [-p[0]!, -p[2]!, -p[1]!] };
  if (op.name === 'cu') return { ...op, params: [-p[0]!, -p[2]!, -p[1]!, -p[3]!] };
  // The remaining gates are rotations exp(-i θ G / 2) or phases: the inverse negates the angle.
  return { ...op, params: p.map((x) => -x) };
}
