/**
 * One device circuit with free angles for many bindings of the same program (a parameter sweep
 * as ONE Sampler PUB). Layout and routing depend only on the two-qubit structure, which no
 * binding changes, and basis translation maps each gate to a fixed sequence; only one-qubit
 * synthesis turns angles into different gate lists. So each binding is transpiled (same seed)
 * with every one-qubit run in the one general form rz·sx·rz·sx·rz: the gate lists then match in
 * everything but rz angles, and each rz whose angle differs between bindings becomes a free
 * parameter. Runs whose angles are the same in every binding are synthesised again the short way.
 */
import type { Circuit, Operation } from '../circuit.ts';
import { multiply2, oneQubitGateMatrix, type Matrix2 } from './one-qubit-matrix.ts';
import { synthesizeOneQubit } from './one-qubit-synthesis.ts';
import { resolveBasis, type DeviceTarget } from './target.ts';
import { circuitDepth, transpile, type TranspileOptions } from './index.ts';

/** Two angles closer than this are the same angle (they came from the same arithmetic). */
const SAME_ANGLE = 1e-12;

/** A device circuit whose free angles take one row of `parameterValues` per binding. */
export interface ParameterisedTranspile {
  /** The device circuit; a free angle's number here is the first binding's. */
  readonly circuit: Circuit;
  /** Operation index → parameter name, for the emitter (qasm/emit.ts `symbolicAngles`). */
  readonly symbolicAngles: ReadonlyMap<number, string>;
  /** Parameter names in the order of a row of `parameterValues` (name order: zero-padded `_p<k>`). */
  readonly parameters: readonly string[];
  /** One row per binding, in the order of `bindings`. */
  readonly parameterValues: readonly (readonly number[])[];
  readonly swaps: number;
  readonly depth: number;
}

/** The bindings' circuits do not share one device gate list (they differ in more than angles). */
export class SweepStructureError extends Error {
  override readonly name = 'SweepStructureError';
  constructor(
    readonly binding: number,
    detail: string,
  ) {
    super(
      `binding ${binding} of the sweep gives a different device circuit from binding 0 (${detail}): a sweep as one PUB needs bindings that change only gate angles; run the bindings as separate circuits`,
    );
  }
}

/** Transpiles `bindings` (the same program bound differently) into one parameterised device circuit. */
export function transpileParameterised(
  bindings: readonly Circuit[],
  target: DeviceTarget,
  options: TranspileOptions = {},
): ParameterisedTranspile {
  if (bindings.length === 0) throw new TypeError('transpileParameterised: bindings must not be empty');
  const mapped = bindings.map((c) => transpile(c, target, { ...options, generalOneQubitForm: true }));
  const first = mapped[0]!;
  const ops = first.circuit.ops;
  mapped.forEach((m, b) => {
    if (m.circuit.ops.length !== ops.length)
      throw new SweepStructureError(b, `${m.circuit.ops.length} operations instead of ${ops.length}`);
    m.circuit.ops.forEach((op, i) => {
      const diff = structuralDifference(ops[i]!, op);
      if (diff) throw new SweepStructureError(b, `operation ${i}: ${diff}`);
    });
  });
  const varies = (i: number) =>
    mapped.some((m) => !sameAngle(gateParams(m.circuit.ops[i]!)[0], gateParams(ops[i]!)[0]));
  const basis = resolveBasis(target.basisGates).oneQubit;
  const out: Operation[] = [];
  const free: number[] = [];
  // For each free angle, the index of its rz in the general-form circuits (the same in every binding).
  const sources: number[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.kind !== 'gate' || op.qubits.length !== 1) {
      out.push(op);
      continue;
    }
    // The general form: five one-qubit gates on one qubit, rz at 0, 2 and 4.
    const run = ops.slice(i, i + 5);
    const angles = [i, i + 2, i + 4];
    if (angles.some(varies)) {
      for (const [k, g] of run.entries()) {
        if (k % 2 === 0 && varies(i + k)) {
          free.push(out.length);
          sources.push(i + k);
        }
        out.push(g);
      }
    } else {
      let m: Matrix2 | undefined;
      for (const g of run)
        if (g.kind === 'gate') {
          const gm = oneQubitGateMatrix(g.name, g.params);
          m = m === undefined ? gm : multiply2(gm, m);
        }
      out.push(...synthesizeOneQubit(m!, op.qubits[0]!, basis));
    }
    i += 4;
  }
  const width = String(Math.max(0, free.length - 1)).length;
  const parameters = free.map((_, k) => `_p${String(k).padStart(width, '0')}`);
  const symbolicAngles = new Map(free.map((index, k) => [index, parameters[k]!]));
  const parameterValues = mapped.map((m) => sources.map((src) => gateParams(m.circuit.ops[src]!)[0]!));
  const circuit: Circuit = { ...first.circuit, ops: out };
  return { circuit, symbolicAngles, parameters, parameterValues, swaps: first.swaps, depth: circuitDepth(circuit) };
}

function gateParams(op: Operation): readonly number[] {
  return op.kind === 'gate' ? op.params : [];
}

function sameAngle(a: number | undefined, b: number | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && Math.abs(a - b) < SAME_ANGLE);
}

/** What makes two device operations more than a change of angle, or undefined. */
function structuralDifference(a: Operation, b: Operation): string | undefined {
  if (a.kind !== b.kind) return `${b.kind} instead of ${a.kind}`;
  if (a.kind === 'gate' && b.kind === 'gate') {
    if (a.name !== b.name) return `${b.name} instead of ${a.name}`;
    if (a.qubits.join() !== b.qubits.join())
      return `${a.name} on qubits ${b.qubits.join(',')} instead of ${a.qubits.join(',')}`;
    if (a.name !== 'rz' && a.params.some((p, k) => !sameAngle(p, b.params[k]))) return `${a.name} with other angles`;
    return undefined;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? undefined : `${JSON.stringify(b)} instead of ${JSON.stringify(a)}`;
}
