/**
 * Estimator V2 jobs in the IBM emulator, after the documented REST shapes
 * (https://quantum.cloud.ibm.com/docs/guides/estimator-rest-api, .../guides/estimator-input-output):
 * a PUB is `[circuit, observables, parameter_values?, precision?]`; observables are a Pauli
 * string, a `{ pauli: coeff }` mapping, or a list of those; they must be ISA observables (one
 * letter per device qubit). Results hold `data.evs` and `data.stds` per PUB, one per observable.
 *
 * Values are exact expectations (computed here by applying each Pauli to the state, apart from
 * Orrery's estimator code) plus Gaussian shot noise of the reported std: a term's std is
 * sqrt((1 - e²) / shots), shots from `default_shots`, else 1 / precision² (precision from the
 * PUB, `default_precision`, or the service default 0.015625). A job takes many PUBs, each with
 * its own precision, up to the emulator's per-job execution limit (estimatorExecutions).
 */
import { parseQasm } from '../../../backends/quantum/qasm/index.ts';
import { finalState } from '../../../backends/quantum/simulator/index.ts';
import type { Circuit } from '../../../backends/quantum/circuit.ts';
import type { FakeDevice } from './fake-devices.ts';
import { isaViolation } from './isa-check.ts';

/** The service's default target precision of Estimator V2. */
export const DEFAULT_PRECISION = 0.015625;

/** One PUB as the emulator keeps it. */
export interface EstimatorPub {
  readonly qasm: string;
  /** Per observable, its terms over the device's qubits (qubit 0 rightmost). */
  readonly observables: readonly (readonly [string, number])[][];
  readonly shots: number;
}

/** A failure of a running job: reason and error code as the job's state shows them. */
export class EstimatorJobFailure extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'EstimatorJobFailure';
  }
}

/** Checks an Estimator request's params at submission: the PUBs, and ISA observables for `device`. */
export function checkEstimatorRequest(
  params: unknown,
  device: FakeDevice,
): { pubs: EstimatorPub[] } | { error: string } {
  const p = (params ?? {}) as { pubs?: unknown; version?: unknown; options?: Record<string, unknown> };
  if (p.version !== 2 || !Array.isArray(p.pubs) || p.pubs.length === 0)
    return { error: 'params must hold version 2 and a non-empty list pubs' };
  const options = p.options ?? {};
  const defaultShots = options.default_shots;
  const defaultPrecision = options.default_precision ?? DEFAULT_PRECISION;
  if (defaultShots !== undefined && (!Number.isInteger(defaultShots) || (defaultShots as number) < 1))
    return { error: `options.default_shots must be a positive integer (got ${JSON.stringify(defaultShots)})` };
  const pubs: EstimatorPub[] = [];
  for (const [i, raw] of p.pubs.entries()) {
    if (!Array.isArray(raw) || typeof raw[0] !== 'string' || raw.length < 2 || raw.length > 4)
      return {
        error: `pub ${i} must be [circuit, observables, parameter_values?, precision?] with an OpenQASM 3 string first`,
      };
    if (raw[2] !== undefined && raw[2] !== null)
      return { error: `pub ${i}: this emulator takes bound circuits only (parameter_values must be null)` };
    const precision = raw[3] ?? defaultPrecision;
    if (typeof precision !== 'number' || !(precision > 0))
      return { error: `pub ${i}: precision must be a positive number (got ${JSON.stringify(raw[3])})` };
    const list = Array.isArray(raw[1]) ? raw[1] : [raw[1]];
    const observables: [string, number][][] = [];
    for (const [k, o] of list.entries()) {
      const terms: [string, number][] =
        typeof o === 'string'
          ? [[o, 1]]
          : typeof o === 'object' && o !== null
            ? Object.entries(o as Record<string, unknown>).map(([s, c]) => [s, c as number])
            : [];
      if (terms.length === 0) return { error: `pub ${i}: observable ${k} is not a Pauli string or a mapping of them` };
      for (const [s, c] of terms) {
        if (!/^[IXYZ]+$/.test(s) || typeof c !== 'number')
          return {
            error: `pub ${i}: observable ${k} holds ${JSON.stringify(s)}: ${JSON.stringify(c)}, not a Pauli string and a real coefficient`,
          };
        if (s.length !== device.nQubits)
          return {
            error: `pub ${i}: observable ${k} acts on ${s.length} qubits but ${device.name} has ${device.nQubits}; observables must be ISA observables (apply the circuit's layout)`,
          };
      }
      observables.push(terms);
    }
    const shots = (defaultShots as number | undefined) ?? Math.ceil(1 / (precision * precision));
    pubs.push({ qasm: raw[0], observables, shots });
  }
  return { pubs };
}

/**
 * A job's executions as the emulator counts them against its per-job limit: each PUB's shots
 * times its observables (every observable measured in its own basis: no grouping), summed.
 */
export function estimatorExecutions(pubs: readonly EstimatorPub[]): number {
  return pubs.reduce((n, p) => n + p.shots * p.observables.length, 0);
}

/** Runs the PUBs: the Estimator V2 JSON results, or throws EstimatorJobFailure. */
export function estimatorResults(pubs: readonly EstimatorPub[], device: FakeDevice, seed: number | undefined): unknown {
  let state = (seed ?? Math.floor(Math.random() * 2 ** 31)) >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  const gaussian = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const results = pubs.map((pub, i) => {
    let circuit: Circuit;
    try {
      circuit = parseQasm(pub.qasm);
    } catch (err) {
      throw new EstimatorJobFailure(
        `Error code 1101; pub ${i}: the OpenQASM 3 program could not be parsed: ${(err as Error).message}`,
        1101,
      );
    }
    const violation = isaViolation(circuit, device);
    if (violation) throw new EstimatorJobFailure(violation, 1517);
    const { compact, slot } = compactWith(circuit, pub.observables);
    const { re, im } = finalState(compact);
    const evs: number[] = [];
    const stds: number[] = [];
    for (const terms of pub.observables) {
      let value = 0;
      let variance = 0;
      for (const [pauli, coeff] of terms) {
        const e = expectation(re, im, pauli, slot);
        value += coeff * e;
        if (/[XYZ]/.test(pauli)) variance += (coeff * coeff * Math.max(0, 1 - e * e)) / pub.shots;
      }
      const std = Math.sqrt(variance);
      evs.push(value + std * gaussian());
      stds.push(std);
    }
    return {
      data: { evs, stds, ensemble_standard_error: stds },
      metadata: { shots: pub.shots, target_precision: 1 / Math.sqrt(pub.shots) },
    };
  });
  return { results, metadata: { version: 2 } };
}

/** The circuit on only the physical qubits its gates or observables touch; slot[physical] = compact index. */
function compactWith(
  circuit: Circuit,
  observables: readonly (readonly [string, number])[][],
): { compact: Circuit; slot: Map<number, number> } {
  const slot = new Map<number, number>();
  const use = (q: number) => {
    if (!slot.has(q)) slot.set(q, slot.size);
    return slot.get(q)!;
  };
  const ops: Circuit['ops'][number][] = [];
  for (const op of circuit.ops) {
    if (op.kind === 'gate') ops.push({ ...op, qubits: op.qubits.map(use) });
    else if (op.kind === 'reset') ops.push({ ...op, qubit: use(op.qubit) });
  }
  for (const terms of observables)
    for (const [pauli] of terms) for (let q = 0; q < pauli.length; q++) if (pauli[pauli.length - 1 - q] !== 'I') use(q);
  const n = Math.max(1, slot.size);
  return { compact: { numQubits: n, numClbits: 0, qregs: [{ name: 'q', size: n, offset: 0 }], cregs: [], ops }, slot };
}

/** <ψ|P|ψ>, P applied letter by letter to a copy of the state. */
function expectation(re: Float64Array, im: Float64Array, pauli: string, slot: Map<number, number>): number {
  let r = Float64Array.from(re);
  let m = Float64Array.from(im);
  for (let q = 0; q < pauli.length; q++) {
    const letter = pauli[pauli.length - 1 - q];
    if (letter === 'I') continue;
    const bit = 1 << slot.get(q)!;
    const nr = new Float64Array(r.length);
    const nm = new Float64Array(r.length);
    for (let i = 0; i < r.length; i++) {
      const one = (i & bit) !== 0;
      const j = letter === 'Z' ? i : i ^ bit;
      // X|b> = |1-b>; Z|b> = (-1)^b |b>; Y|0> = i|1>, Y|1> = -i|0>.
      if (letter === 'X') {
        nr[j] = r[i]!;
        nm[j] = m[i]!;
      } else if (letter === 'Z') {
        nr[j] = one ? -r[i]! : r[i]!;
        nm[j] = one ? -m[i]! : m[i]!;
      } else {
        const s = one ? -1 : 1;
        nr[j] = -s * m[i]!;
        nm[j] = s * r[i]!;
      }
    }
    r = nr;
    m = nm;
  }
  let sum = 0;
  for (let i = 0; i < r.length; i++) sum += re[i]! * r[i]! + im[i]! * m[i]!;
  return sum;
}
