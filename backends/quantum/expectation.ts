/**
 * Expectation values of Pauli sums: exactly from a state vector, or estimated from samples of
 * basis-rotated circuits (one circuit per qubit-wise commuting group: H before measuring X,
 * S† then H before measuring Y). The sampled route serves the simulator with shots and Braket.
 */
import type { Circuit, Counts, Operation } from './circuit.ts';
import { letterOn, qubitWiseGroups, type PauliSum } from './observables.ts';

/** Expectation values, one per observable, and their standard errors (0 when exact). */
export interface EstimatorResult {
  readonly values: number[];
  readonly stds: number[];
}

/** <ψ|P|ψ> for one Pauli string over the amplitudes (index bit k = qubit k). */
export function pauliExpectation(re: Float64Array, im: Float64Array, pauli: string): number {
  let flip = 0;
  let sign = 0;
  let ys = 0;
  for (let q = 0; q < pauli.length; q++) {
    const c = letterOn(pauli, q);
    if (c === 'X' || c === 'Y') flip |= 1 << q;
    if (c === 'Z' || c === 'Y') sign |= 1 << q;
    if (c === 'Y') ys++;
  }
  // P|i> = i^ys · (-1)^popcount(i & sign) · |i ^ flip>, so <ψ|P|ψ> = Σ conj(ψ[i^flip]) · that · ψ[i].
  let sumRe = 0;
  let sumIm = 0;
  for (let i = 0; i < re.length; i++) {
    const j = i ^ flip;
    const pr = re[j]! * re[i]! + im[j]! * im[i]!;
    const pi = re[j]! * im[i]! - im[j]! * re[i]!;
    if (parity(i & sign)) {
      sumRe -= pr;
      sumIm -= pi;
    } else {
      sumRe += pr;
      sumIm += pi;
    }
  }
  switch (ys & 3) {
    case 0:
      return sumRe;
    case 1:
      return -sumIm;
    case 2:
      return -sumRe;
    default:
      return sumIm;
  }
}

/** Exact expectation values of `observables` in the state (re, im); stds are 0. */
export function exactExpectations(
  re: Float64Array,
  im: Float64Array,
  observables: readonly PauliSum[],
): EstimatorResult {
  const memo = new Map<string, number>();
  const values = observables.map((o) =>
    o.terms.reduce((sum, t) => {
      let e = memo.get(t.pauli);
      if (e === undefined) memo.set(t.pauli, (e = pauliExpectation(re, im, t.pauli)));
      return sum + t.coeff * e;
    }, 0),
  );
  return { values, stds: values.map(() => 0) };
}

/** Name of the register the rotated circuits measure into: bit k holds qubit k. */
export const BASIS_CREG = 'pauli_basis';

/**
 * The circuit without its measurements, rotated so that measuring in Z reads `basis`, then
 * measuring every qubit into one register {@link BASIS_CREG} (bit k = qubit k).
 */
export function rotatedCircuit(circuit: Circuit, basis: string): Circuit {
  const ops: Operation[] = circuit.ops.filter((op) => op.kind !== 'measure');
  for (let q = 0; q < circuit.numQubits; q++) {
    const c = letterOn(basis, q);
    if (c === 'Y') ops.push({ kind: 'gate', name: 'sdg', qubits: [q], params: [] });
    if (c === 'X' || c === 'Y') ops.push({ kind: 'gate', name: 'h', qubits: [q], params: [] });
  }
  for (let q = 0; q < circuit.numQubits; q++) ops.push({ kind: 'measure', qubit: q, clbit: q });
  return {
    numQubits: circuit.numQubits,
    numClbits: circuit.numQubits,
    qregs: circuit.qregs,
    cregs: [{ name: BASIS_CREG, size: circuit.numQubits, offset: 0 }],
    ops,
  };
}

/** The measurement bases sampling needs for `observables`, and per basis the Pauli strings it reads. */
export function measurementPlan(observables: readonly PauliSum[]): { basis: string; paulis: string[] }[] {
  const paulis = [...new Set(observables.flatMap((o) => o.terms.map((t) => t.pauli)))];
  return qubitWiseGroups(paulis).map((g) => ({ basis: g.basis, paulis: g.members.map((m) => paulis[m]!) }));
}

/**
 * Estimates from the counts of each basis of {@link measurementPlan} (counts over
 * {@link BASIS_CREG}, qubit 0 rightmost). Each observable's std is the standard error of its
 * mean: per basis, the sample variance of the shot-wise value of the observable's terms read in
 * that basis, over the shots; bases add as independent samples. An all-I term is exact.
 */
export function estimatesFromCounts(
  observables: readonly PauliSum[],
  plan: readonly { basis: string; paulis: readonly string[] }[],
  countsPerBasis: readonly Counts[],
): EstimatorResult {
  const basisOf = new Map<string, number>();
  plan.forEach((b, i) => {
    for (const p of b.paulis) basisOf.set(p, i);
  });
  const values: number[] = [];
  const stds: number[] = [];
  for (const o of observables) {
    let value = 0;
    let variance = 0;
    const byBasis = new Map<number, { pauli: string; coeff: number }[]>();
    for (const t of o.terms) {
      const b = basisOf.get(t.pauli);
      if (b === undefined) value += t.coeff;
      else byBasis.set(b, [...(byBasis.get(b) ?? []), t]);
    }
    for (const [b, terms] of byBasis) {
      let shots = 0;
      let sum = 0;
      let sumSq = 0;
      for (const [bits, n] of Object.entries(countsPerBasis[b]!)) {
        let v = 0;
        for (const t of terms) v += t.coeff * (readsOne(bits, t.pauli) ? -1 : 1);
        shots += n;
        sum += n * v;
        sumSq += n * v * v;
      }
      if (shots === 0) continue;
      const mean = sum / shots;
      value += mean;
      variance += Math.max(0, sumSq / shots - mean * mean) / shots;
    }
    values.push(value);
    stds.push(Math.sqrt(variance));
  }
  return { values, stds };
}

/** Shots that give a ±1 observable a standard error of at most `precision` (1/precision²). */
export function shotsForPrecision(precision: number): number {
  return Math.ceil(1 / (precision * precision));
}

/** Whether the measured bits (qubit 0 rightmost) have odd parity on the qubits where `pauli` is not I. */
function readsOne(bits: string, pauli: string): boolean {
  let odd = false;
  for (let k = 0; k < pauli.length; k++) if (pauli[k] !== 'I' && bits[k] === '1') odd = !odd;
  return odd;
}

function parity(x: number): boolean {
  let v = x;
  v ^= v >>> 16;
  v ^= v >>> 8;
  v ^= v >>> 4;
  v ^= v >>> 2;
  v ^= v >>> 1;
  return (v & 1) === 1;
}
