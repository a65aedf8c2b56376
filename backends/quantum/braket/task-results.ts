/**
 * Braket's results.json (schema `braket.task_result.gate_model_task_result` v1) turned into
 * Orrery counts. Braket reports one value per measured qubit and shot, its columns named by
 * `measuredQubits`; Orrery counts are keyed by the circuit's classical bits, Qiskit-style (clbit 0
 * rightmost). The circuit says which qubit each clbit was measured from, which maps one onto the other.
 */
import type { Circuit, Counts } from '../circuit.ts';

/** The header of gate-model task results. */
export const GATE_MODEL_RESULT_SCHEMA = 'braket.task_result.gate_model_task_result';

/** The parts of a GateModelTaskResult this backend reads. */
export interface GateModelTaskResult {
  readonly braketSchemaHeader: { readonly name: string; readonly version: string };
  /** One row per shot, one 0/1 per entry of `measuredQubits`. */
  readonly measurements?: readonly (readonly number[])[];
  /** Instead of measurements (some devices): big-endian bitstrings over `measuredQubits` -> probability. */
  readonly measurementProbabilities?: Readonly<Record<string, number>>;
  /** The qubit each measurement column belongs to. */
  readonly measuredQubits?: readonly number[];
  readonly taskMetadata: {
    readonly id: string;
    readonly shots: number;
    readonly deviceId: string;
    readonly status?: string;
    readonly failureReason?: string;
  };
  readonly additionalMetadata?: {
    /** On-demand simulators: `executionDuration` in ms (what is billed). */
    readonly simulatorMetadata?: { readonly executionDuration?: number };
  };
}

/** The body of results.json is not a gate-model task result this backend can read. */
export class BraketResultFormatError extends Error {
  override readonly name = 'BraketResultFormatError';
}

/** A circuit Braket cannot return counts for: a qubit is used again after it was measured. */
export class MidCircuitMeasurementError extends Error {
  override readonly name = 'MidCircuitMeasurementError';
  constructor(readonly qubit: number) {
    super(
      `qubit ${qubit} is used after it was measured; Braket returns one measurement per qubit, taken at the end of the circuit. Measure each qubit once, after its last gate.`,
    );
  }
}

/** Parses and checks the text of a results.json. */
export function parseTaskResult(text: string): GateModelTaskResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new BraketResultFormatError(`results.json is not JSON: ${(err as Error).message}`);
  }
  const r = raw as Partial<GateModelTaskResult> | null;
  if (!r || typeof r !== 'object' || r.braketSchemaHeader?.name !== GATE_MODEL_RESULT_SCHEMA) {
    throw new BraketResultFormatError(
      `results.json has schema ${JSON.stringify(r?.braketSchemaHeader?.name)}, expected ${GATE_MODEL_RESULT_SCHEMA}`,
    );
  }
  if (!r.taskMetadata || typeof r.taskMetadata.shots !== 'number')
    throw new BraketResultFormatError('results.json has no taskMetadata.shots');
  if (r.measurements === undefined && r.measurementProbabilities === undefined) {
    throw new BraketResultFormatError('results.json has neither measurements nor measurementProbabilities');
  }
  if (
    r.measuredQubits !== undefined &&
    (!Array.isArray(r.measuredQubits) || !r.measuredQubits.every((q) => Number.isInteger(q) && q >= 0))
  ) {
    throw new BraketResultFormatError('results.json measuredQubits must be a list of qubit indices');
  }
  return r as GateModelTaskResult;
}

/**
 * For each clbit, the qubit its final value was measured from (undefined: never measured, stays 0).
 * Throws MidCircuitMeasurementError when a qubit is touched after a measurement, since Braket's
 * per-qubit results could not tell the two measurements apart.
 */
export function clbitSources(circuit: Circuit): (number | undefined)[] {
  const source: (number | undefined)[] = new Array(circuit.numClbits).fill(undefined);
  const measured = new Set<number>();
  const touch = (q: number): void => {
    if (measured.has(q)) throw new MidCircuitMeasurementError(q);
  };
  for (const op of circuit.ops) {
    if (op.kind === 'measure') {
      measured.add(op.qubit);
      source[op.clbit] = op.qubit;
    } else if (op.kind === 'gate') {
      op.qubits.forEach(touch);
    } else if (op.kind === 'reset') {
      touch(op.qubit);
    }
  }
  return source;
}

/** Counts over the circuit's clbits (Qiskit order) from a task result. */
export function countsFromResult(result: GateModelTaskResult, circuit: Circuit): Counts {
  const sources = clbitSources(circuit);
  const width = result.measurements?.[0]?.length ?? Object.keys(result.measurementProbabilities ?? {})[0]?.length ?? 0;
  const measuredQubits = result.measuredQubits ?? Array.from({ length: width }, (_, i) => i);
  const column = new Map(measuredQubits.map((q, i) => [q, i]));
  const columns = sources.map((q, c) => {
    if (q === undefined) return -1;
    const col = column.get(q);
    if (col === undefined)
      throw new BraketResultFormatError(
        `the circuit measures qubit ${q} into clbit ${c}, but the results only hold qubits [${measuredQubits.join(', ')}]`,
      );
    return col;
  });
  const keyOf = (value: (col: number) => number): string => {
    let key = '';
    for (let c = columns.length - 1; c >= 0; c--) key += columns[c] === -1 ? '0' : String(value(columns[c]!));
    return key;
  };
  const counts: Counts = {};
  const add = (key: string, n: number): void => {
    if (n > 0) counts[key] = (counts[key] ?? 0) + n;
  };
  if (result.measurements !== undefined) {
    for (const [i, row] of result.measurements.entries()) {
      if (row.length !== measuredQubits.length)
        throw new BraketResultFormatError(
          `shot ${i} has ${row.length} values for ${measuredQubits.length} measured qubits`,
        );
      add(
        keyOf((col) => row[col]!),
        1,
      );
    }
  } else {
    const shots = result.taskMetadata.shots;
    for (const [bits, p] of Object.entries(result.measurementProbabilities!)) {
      if (bits.length !== measuredQubits.length)
        throw new BraketResultFormatError(
          `probability key ${bits} has ${bits.length} bits for ${measuredQubits.length} measured qubits`,
        );
      add(
        keyOf((col) => Number(bits[col])),
        Math.round(p * shots),
      );
    }
  }
  return counts;
}
