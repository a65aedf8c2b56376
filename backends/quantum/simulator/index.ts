/**
 * Orrery's state-vector simulator: runs a Circuit and returns measurement counts, or the final
 * state for tests and tools. Single-threaded on purpose: Orrery runs many tasks side by side in
 * worker processes, and each simulation should use one core.
 */
import type { Circuit, Counts } from '../circuit.ts';
import { checkCapacity, HARD_QUBIT_LIMIT } from './capacity.ts';
import { compilePlan, measurementsAreTerminal, type Step } from './plan.ts';
import { createRandom, sampleBasisStates, type Random } from './sampling.ts';
import { applyKernel, collapse, probabilityOfOne, zeroState, type StateVector } from './statevector.ts';

export { maxQubitsFor } from './capacity.ts';

/** The most shots one simulation takes (10 million: the sampled uniforms alone are 80 MB). */
export const MAX_SHOTS = 10_000_000;

/** Options of `simulate`. */
export interface SimulateOptions {
  /** How many times to run the circuit: a positive integer up to 10,000,000. */
  readonly shots: number;
  /** Seeds the sampler: the same seed gives the same counts. Random when absent. */
  readonly seed?: number;
  /** Refuse circuits wider than this; default: what fits in half of this machine's memory, at most 30. */
  readonly maxQubits?: number;
  /** The Orrery backend name, for error messages (default `quantum-simulator`). */
  readonly backend?: string;
}

/** What `simulate` returns. */
export interface SimulateResult {
  /** Bitstring counts, Qiskit's order (clbit 0 rightmost); unmeasured clbits read 0. */
  readonly counts: Counts;
  readonly shots: number;
}

/** `finalState` was asked for the state of a circuit with a reset, which has no single final state. */
export class NonUnitaryCircuitError extends Error {
  constructor(readonly operationIndex: number) {
    super(
      `circuit operation ${operationIndex} is a reset, so the circuit has no single final state; use simulate() to sample it, or remove the reset`,
    );
    this.name = 'NonUnitaryCircuitError';
  }
}

function checkOptions(options: SimulateOptions): void {
  const { shots, seed, maxQubits } = options;
  if (!Number.isInteger(shots) || shots < 1 || shots > MAX_SHOTS) {
    throw new TypeError(`shots must be a positive integer no larger than ${MAX_SHOTS}, got ${String(shots)}`);
  }
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw new TypeError(`seed must be a safe integer, got ${String(seed)}`);
  }
  if (maxQubits !== undefined && (!Number.isInteger(maxQubits) || maxQubits < 0 || maxQubits > HARD_QUBIT_LIMIT)) {
    throw new TypeError(`maxQubits must be an integer from 0 to ${HARD_QUBIT_LIMIT}, got ${String(maxQubits)}`);
  }
}

/** Turns clbit values (index = clbit) into Qiskit's bitstring: clbit 0 is the rightmost character. */
function bitstring(bits: Uint8Array): string {
  let s = '';
  for (let c = bits.length - 1; c >= 0; c--) s += bits[c] ? '1' : '0';
  return s;
}

function runGates(state: StateVector, steps: readonly Step[]): void {
  for (const step of steps) if (step.kind === 'gate') applyKernel(state, step.kernel);
}

/** All measurements terminal: evolve once, sample basis states, read the measured bits out of each. */
function sampleTerminal(circuit: Circuit, steps: readonly Step[], shots: number, random: Random): Counts {
  const state = zeroState(circuit.numQubits);
  runGates(state, steps);
  const reads = steps.filter((s): s is Extract<Step, { kind: 'measure' }> => s.kind === 'measure');
  const counts: Counts = {};
  const bits = new Uint8Array(circuit.numClbits);
  for (const [index, hits] of sampleBasisStates(state, shots, random)) {
    bits.fill(0);
    for (const r of reads) bits[r.clbit] = (index >>> r.qubit) & 1;
    const key = bitstring(bits);
    counts[key] = (counts[key] ?? 0) + hits;
  }
  return counts;
}

/** Measures `qubit` with projective collapse and returns the outcome. */
function measure(state: StateVector, qubit: number, random: Random): 0 | 1 {
  const { one, norm } = probabilityOfOne(state, qubit);
  const outcome = random.next() * norm < one ? 1 : 0;
  collapse(state, qubit, outcome, outcome === 1 ? one : norm - one);
  return outcome;
}

/**
 * Mid-circuit measurements or resets: every shot collapses its own copy of the state. The part
 * before the first measurement or reset is the same for every shot, so it is evolved once.
 */
function sampleShotByShot(circuit: Circuit, steps: readonly Step[], shots: number, random: Random): Counts {
  const first = steps.findIndex((s) => s.kind !== 'gate');
  const prefix = zeroState(circuit.numQubits);
  runGates(prefix, steps.slice(0, first));
  const rest = steps.slice(first);
  const state = zeroState(circuit.numQubits);
  const bits = new Uint8Array(circuit.numClbits);
  const counts: Counts = {};
  for (let shot = 0; shot < shots; shot++) {
    state.re.set(prefix.re);
    state.im.set(prefix.im);
    bits.fill(0);
    for (const step of rest) {
      if (step.kind === 'gate') applyKernel(state, step.kernel);
      else if (step.kind === 'measure') bits[step.clbit] = measure(state, step.qubit, random);
      else if (measure(state, step.qubit, random) === 1)
        applyKernel(state, { kind: 'x', target: step.qubit, controls: [] });
    }
    const key = bitstring(bits);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * Runs `circuit` for `options.shots` shots and returns the counts.
 *
 * @throws TypeError when shots, seed or maxQubits are out of range, or the circuit is malformed.
 * @throws BackendError (not retryable) when the circuit has more qubits than fit.
 */
export function simulate(circuit: Circuit, options: SimulateOptions): SimulateResult {
  checkOptions(options);
  checkCapacity(circuit.numQubits, options.maxQubits, options.backend ?? 'quantum-simulator');
  const steps = compilePlan(circuit);
  const { shots } = options;
  if (!steps.some((s) => s.kind !== 'gate')) {
    return { counts: { [bitstring(new Uint8Array(circuit.numClbits))]: shots }, shots };
  }
  const random = createRandom(options.seed);
  const counts = measurementsAreTerminal(circuit)
    ? sampleTerminal(circuit, steps, shots, random)
    : sampleShotByShot(circuit, steps, shots, random);
  return { counts, shots };
}

/**
 * The state just before measurement: measurements and barriers are skipped. Index bit k is
 * qubit k (little-endian, as Qiskit's Statevector).
 *
 * @throws NonUnitaryCircuitError when the circuit contains a reset.
 */
export function finalState(circuit: Circuit): { re: Float64Array; im: Float64Array } {
  const reset = circuit.ops.findIndex((op) => op.kind === 'reset');
  if (reset >= 0) throw new NonUnitaryCircuitError(reset);
  checkCapacity(circuit.numQubits, undefined, 'quantum-simulator');
  const unitary: Circuit = { ...circuit, ops: circuit.ops.filter((op) => op.kind !== 'measure') };
  const state = zeroState(circuit.numQubits);
  runGates(state, compilePlan(unitary));
  return { re: state.re, im: state.im };
}

/** The probability of each basis state of the final state (index bit k = qubit k). */
export function probabilities(circuit: Circuit): Float64Array {
  const { re, im } = finalState(circuit);
  const p = new Float64Array(re.length);
  for (let i = 0; i < re.length; i++) p[i] = re[i]! * re[i]! + im[i]! * im[i]!;
  return p;
}
