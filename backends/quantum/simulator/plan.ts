/**
 * Turns a circuit's operations into the steps the simulator runs, fusing gates on the way: each
 * sweep over the state costs the same whatever the gate, so fewer sweeps is the main speed-up.
 *
 * One-qubit gates are held per qubit and multiplied together until something else touches that
 * qubit (they commute with everything on other qubits). When a two-qubit gate arrives, the held
 * gates on its two qubits are folded into it as one 4x4 sweep instead of up to three sweeps.
 */
import { GATE_ARITY, type Circuit, type Operation } from '../circuit.ts';
import { gateKernel, isDiagonal, oneQubitMatrix, type GateKernel, type Mat2, type Mat4 } from './gates.ts';
import { applyKernel, type StateVector } from './statevector.ts';

/**
 * One thing the simulator does, in order.
 *
 * - `gate`: apply a kernel.
 * - `measure`: read `qubit` into `clbit` (projective).
 * - `reset`: measure `qubit` and flip it back to |0>.
 */
export type Step =
  | { readonly kind: 'gate'; readonly kernel: GateKernel }
  | { readonly kind: 'measure'; readonly qubit: number; readonly clbit: number }
  | { readonly kind: 'reset'; readonly qubit: number };

/** `a · b` for 2x2 interleaved complex matrices. */
function mul2(a: Mat2, b: Mat2): Mat2 {
  const out = new Float64Array(8);
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 2; c++) {
      let sr = 0;
      let si = 0;
      for (let k = 0; k < 2; k++) {
        const xr = a[(r * 2 + k) * 2]!,
          xi = a[(r * 2 + k) * 2 + 1]!;
        const yr = b[(k * 2 + c) * 2]!,
          yi = b[(k * 2 + c) * 2 + 1]!;
        sr += xr * yr - xi * yi;
        si += xr * yi + xi * yr;
      }
      out[(r * 2 + c) * 2] = sr;
      out[(r * 2 + c) * 2 + 1] = si;
    }
  }
  return out;
}

const IDENTITY: Mat2 = oneQubitMatrix('id', []);

/** The kernel for a held 2x2 product: the cheapest shape that is exact for it. */
function oneQubitKernel(target: number, m: Mat2): GateKernel {
  if (isDiagonal(m)) return { kind: 'diag1', target, controls: [], d: Float64Array.of(m[0]!, m[1]!, m[6]!, m[7]!) };
  if (m[0] === 0 && m[1] === 0 && m[6] === 0 && m[7] === 0 && m[2] === 1 && m[3] === 0 && m[4] === 1 && m[5] === 0) {
    return { kind: 'x', target, controls: [] };
  }
  return { kind: 'mat1', target, controls: [], m };
}

/** Rewrites a kernel's qubit numbers through `map` (to evaluate it on a two-qubit scratch state). */
function remap(k: GateKernel, map: (q: number) => number): GateKernel {
  switch (k.kind) {
    case 'mat1':
    case 'diag1':
    case 'x':
      return { ...k, target: map(k.target), controls: k.controls.map(map) };
    case 'swap':
      return { ...k, a: map(k.a), b: map(k.b), controls: k.controls.map(map) };
    case 'mat4':
    case 'diag4':
      return { ...k, q0: map(k.q0), q1: map(k.q1) };
  }
}

/**
 * The 4x4 matrix of `gate` (on flat qubit q0 and one other) times `p1 ⊗ p0`, found by running the gate's
 * own kernel on the four basis states, so it cannot disagree with the unfused path.
 */
function fuseTwoQubit(gate: GateKernel, q0: number, p0: Mat2, p1: Mat2): Mat4 {
  const local = remap(gate, (q) => (q === q0 ? 0 : 1));
  const g = new Float64Array(32);
  for (let c = 0; c < 4; c++) {
    const s: StateVector = { numQubits: 2, re: new Float64Array(4), im: new Float64Array(4) };
    s.re[c] = 1;
    applyKernel(s, local);
    for (let r = 0; r < 4; r++) {
      g[(r * 4 + c) * 2] = s.re[r]!;
      g[(r * 4 + c) * 2 + 1] = s.im[r]!;
    }
  }
  const out = new Float64Array(32);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let sr = 0;
      let si = 0;
      for (let k = 0; k < 4; k++) {
        // (p1 ⊗ p0)[k][c] = p1[k1][c1] · p0[k0][c0]
        const a0r = p0[((k & 1) * 2 + (c & 1)) * 2]!,
          a0i = p0[((k & 1) * 2 + (c & 1)) * 2 + 1]!;
        const a1r = p1[((k >> 1) * 2 + (c >> 1)) * 2]!,
          a1i = p1[((k >> 1) * 2 + (c >> 1)) * 2 + 1]!;
        const tr = a0r * a1r - a0i * a1i;
        const ti = a0r * a1i + a0i * a1r;
        const gr = g[(r * 4 + k) * 2]!,
          gi = g[(r * 4 + k) * 2 + 1]!;
        sr += gr * tr - gi * ti;
        si += gr * ti + gi * tr;
      }
      out[(r * 4 + c) * 2] = sr;
      out[(r * 4 + c) * 2 + 1] = si;
    }
  }
  return out;
}

/** Checks one operation against the circuit's sizes; the parser should never produce a bad one. */
function validate(op: Operation, index: number, circuit: Circuit): void {
  const where = `circuit operation ${index}`;
  const checkQubit = (q: number): void => {
    if (!Number.isInteger(q) || q < 0 || q >= circuit.numQubits) {
      throw new TypeError(`${where} uses qubit ${q}; the circuit has qubits 0..${circuit.numQubits - 1}`);
    }
  };
  if (op.kind === 'gate') {
    const arity = GATE_ARITY[op.name];
    if (!arity)
      throw new TypeError(
        `${where} is gate "${op.name}", which the simulator does not know; use a gate of stdgates.inc`,
      );
    if (op.qubits.length !== arity.qubits || op.params.length !== arity.params) {
      throw new TypeError(
        `${where}: gate ${op.name} takes ${arity.qubits} qubit(s) and ${arity.params} parameter(s), got ${op.qubits.length} and ${op.params.length}`,
      );
    }
    op.qubits.forEach(checkQubit);
    if (new Set(op.qubits).size !== op.qubits.length)
      throw new TypeError(`${where}: gate ${op.name} names a qubit twice (${op.qubits.join(', ')})`);
    if (!op.params.every(Number.isFinite))
      throw new TypeError(`${where}: gate ${op.name} has a non-finite parameter (${op.params.join(', ')})`);
  } else if (op.kind === 'measure') {
    checkQubit(op.qubit);
    if (!Number.isInteger(op.clbit) || op.clbit < 0 || op.clbit >= circuit.numClbits) {
      throw new TypeError(
        `${where} measures into clbit ${op.clbit}; the circuit has clbits 0..${circuit.numClbits - 1}`,
      );
    }
  } else if (op.kind === 'reset') {
    checkQubit(op.qubit);
  } else {
    op.qubits.forEach(checkQubit);
  }
}

/** Validates the circuit and compiles it into fused steps (barriers vanish). */
export function compilePlan(circuit: Circuit): Step[] {
  const steps: Step[] = [];
  const held: (Mat2 | undefined)[] = new Array(circuit.numQubits).fill(undefined);
  const flush = (q: number): void => {
    const m = held[q];
    if (m) steps.push({ kind: 'gate', kernel: oneQubitKernel(q, m) });
    held[q] = undefined;
  };
  circuit.ops.forEach((op, index) => {
    validate(op, index, circuit);
    if (op.kind === 'barrier') return;
    if (op.kind !== 'gate') {
      flush(op.qubit);
      steps.push(
        op.kind === 'measure'
          ? { kind: 'measure', qubit: op.qubit, clbit: op.clbit }
          : { kind: 'reset', qubit: op.qubit },
      );
      return;
    }
    if (op.name === 'id') return;
    if (op.qubits.length === 1) {
      const q = op.qubits[0]!;
      const m = oneQubitMatrix(op.name, op.params);
      held[q] = held[q] ? mul2(m, held[q]!) : m;
      return;
    }
    const kernel = gateKernel(op.name, op.qubits, op.params);
    if (op.qubits.length === 2) {
      const [q0, q1] = op.qubits as [number, number];
      if (held[q0] || held[q1]) {
        const m = fuseTwoQubit(kernel, q0, held[q0] ?? IDENTITY, held[q1] ?? IDENTITY);
        held[q0] = undefined;
        held[q1] = undefined;
        steps.push({ kind: 'gate', kernel: { kind: 'mat4', q0, q1, m } });
        return;
      }
    }
    op.qubits.forEach(flush);
    steps.push({ kind: 'gate', kernel });
  });
  for (let q = 0; q < circuit.numQubits; q++) flush(q);
  return steps;
}

/**
 * Whether every measurement is terminal: no gate or reset touches a qubit after it was measured,
 * and there is no reset at all. Then one evolution and sampling from the final probabilities
 * gives the same distribution as collapsing shot by shot.
 */
export function measurementsAreTerminal(circuit: Circuit): boolean {
  const measured = new Set<number>();
  for (const op of circuit.ops) {
    if (op.kind === 'reset') return false;
    if (op.kind === 'measure') measured.add(op.qubit);
    else if (op.kind === 'gate' && op.qubits.some((q) => measured.has(q))) return false;
  }
  return true;
}
