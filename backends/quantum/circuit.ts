/**
 * The circuit IR every quantum part shares: the QASM parser produces it, the simulator runs it,
 * the transpiler rewrites it for a device, and the emitter turns it back into OpenQASM 3 for
 * services. Parameters are bound: every angle is a number by the time a Circuit exists.
 */

/**
 * The gates of the IR (OpenQASM 3 `stdgates.inc` names; the parser maps aliases such as
 * `u3`, `U`, `CX`, `u1`, `phase`, `cphase`, `cnot`, `toffoli`, `cu1`, `cu3` onto these).
 * Qubit order in `qubits`: controls first, then targets (as written in QASM).
 */
export type GateName =
  // one qubit, no parameters
  | 'id'
  | 'x'
  | 'y'
  | 'z'
  | 'h'
  | 's'
  | 'sdg'
  | 't'
  | 'tdg'
  | 'sx'
  | 'sxdg'
  // one qubit, parameterised: rx/ry/rz/p (theta), u (theta, phi, lambda) = U of OpenQASM 3
  | 'rx'
  | 'ry'
  | 'rz'
  | 'p'
  | 'u'
  // two qubits
  | 'cx'
  | 'cy'
  | 'cz'
  | 'ch'
  | 'swap'
  | 'ecr'
  // two qubits, parameterised: cp/crx/cry/crz (theta), cu (theta, phi, lambda, gamma), rxx/ryy/rzz (theta)
  | 'cp'
  | 'crx'
  | 'cry'
  | 'crz'
  | 'cu'
  | 'rxx'
  | 'ryy'
  | 'rzz'
  // three qubits
  | 'ccx'
  | 'cswap';

/** How many qubits and parameters each gate takes. */
export const GATE_ARITY: Readonly<Record<GateName, { readonly qubits: number; readonly params: number }>> = {
  id: { qubits: 1, params: 0 },
  x: { qubits: 1, params: 0 },
  y: { qubits: 1, params: 0 },
  z: { qubits: 1, params: 0 },
  h: { qubits: 1, params: 0 },
  s: { qubits: 1, params: 0 },
  sdg: { qubits: 1, params: 0 },
  t: { qubits: 1, params: 0 },
  tdg: { qubits: 1, params: 0 },
  sx: { qubits: 1, params: 0 },
  sxdg: { qubits: 1, params: 0 },
  rx: { qubits: 1, params: 1 },
  ry: { qubits: 1, params: 1 },
  rz: { qubits: 1, params: 1 },
  p: { qubits: 1, params: 1 },
  u: { qubits: 1, params: 3 },
  cx: { qubits: 2, params: 0 },
  cy: { qubits: 2, params: 0 },
  cz: { qubits: 2, params: 0 },
  ch: { qubits: 2, params: 0 },
  swap: { qubits: 2, params: 0 },
  ecr: { qubits: 2, params: 0 },
  cp: { qubits: 2, params: 1 },
  crx: { qubits: 2, params: 1 },
  cry: { qubits: 2, params: 1 },
  crz: { qubits: 2, params: 1 },
  cu: { qubits: 2, params: 4 },
  rxx: { qubits: 2, params: 1 },
  ryy: { qubits: 2, params: 1 },
  rzz: { qubits: 2, params: 1 },
  ccx: { qubits: 3, params: 0 },
  cswap: { qubits: 3, params: 0 },
};

/** One instruction. Qubit and clbit numbers are flat indices over all registers (register offsets below). */
export type Operation =
  | {
      readonly kind: 'gate';
      readonly name: GateName;
      readonly qubits: readonly number[];
      readonly params: readonly number[];
    }
  | { readonly kind: 'measure'; readonly qubit: number; readonly clbit: number }
  | { readonly kind: 'reset'; readonly qubit: number }
  | { readonly kind: 'barrier'; readonly qubits: readonly number[] };

/** A named register: flat indices `offset .. offset + size - 1`. */
export interface Register {
  readonly name: string;
  readonly size: number;
  readonly offset: number;
}

/** A parsed, parameter-bound circuit. */
export interface Circuit {
  readonly numQubits: number;
  readonly numClbits: number;
  readonly qregs: readonly Register[];
  readonly cregs: readonly Register[];
  readonly ops: readonly Operation[];
}

/**
 * Measurement counts keyed by bitstring, Qiskit's convention: classical bit 0 is the rightmost
 * character, registers concatenated with the first-declared register rightmost and no spaces.
 */
export type Counts = Record<string, number>;
