/**
 * A parameter sweep (`circuit().map`) as ONE Sampler V2 PUB `[circuit, parameter_values]`: the
 * bindings are transpiled into one device circuit whose varying rz angles are `input float[64]`
 * parameters (transpile/parameterised.ts), parameter_values holds one row per binding (columns
 * in the parameters' name order, which is Qiskit's), and the PUB's result holds, per classical
 * register, one list of hex shots per row. A sweep over the per-job execution limit (rows x
 * shots) is cut into parts of whole rows, one PUB each, which go into separate jobs.
 */
import { BackendError } from '../../../orchestrator/core/errors.ts';
import type { Circuit } from '../circuit.ts';
import { toQasm3 } from '../qasm/index.ts';
import type { CircuitResult } from '../run-types.ts';
import type { DeviceTarget } from '../transpile/index.ts';
import { transpileParameterised } from '../transpile/parameterised.ts';
import type { RegisterSamples } from './runtime-wire.ts';
import { samplesToCounts } from './sampler-results.ts';

/** One PUB of a sweep: rows `from .. from + parameterValues.length - 1` of the bindings. */
export interface SweepPart {
  readonly qasm: string;
  readonly parameterValues: readonly (readonly number[])[];
  readonly from: number;
  /** Which part of the sweep this is, and how many there are. */
  readonly part: number;
  readonly parts: number;
  readonly swaps: number;
  readonly depth: number;
}

/**
 * The PUBs of sweep `bindings` (bound circuits of one program) on `target`: one, or several
 * when rows x `shots` exceed `maxExecutions` (each part then holds as many rows as fit).
 */
export function sweepParts(
  bindings: readonly Circuit[],
  target: DeviceTarget,
  shots: number,
  maxExecutions: number,
): SweepPart[] {
  const swept = transpileParameterised(bindings, target);
  const qasm = toQasm3(swept.circuit, { physicalQubits: true, symbolicAngles: swept.symbolicAngles });
  const perPart = Math.max(1, Math.floor(maxExecutions / shots));
  const parts = Math.ceil(bindings.length / perPart);
  return Array.from({ length: parts }, (_, part) => ({
    qasm,
    parameterValues: swept.parameterValues.slice(part * perPart, (part + 1) * perPart),
    from: part * perPart,
    part,
    parts,
    swaps: swept.swaps,
    depth: swept.depth,
  }));
}

/** A sweep PUB's `data`: per register, one list of hex shots per row. */
type SweepData = Readonly<Record<string, { readonly samples: readonly unknown[]; readonly num_bits: number }>>;

/**
 * One result per row of a sweep PUB from its `data`, each with the counts over `cregs` (the
 * program's registers) and the facts in `common`. Throws BackendError when the data does not
 * have one list of shots per row for every register.
 */
export function sweepRowResults(
  backend: string,
  data: SweepData,
  cregs: Circuit['cregs'],
  common: Omit<CircuitResult, 'counts'>,
): CircuitResult[] {
  const names = Object.keys(data);
  const first = data[cregs[0]?.name ?? names[0]!];
  const rows = first?.samples.length ?? 0;
  if (rows === 0 || !first!.samples.every(Array.isArray))
    throw new BackendError(
      backend,
      `the sweep's PUB result has no list of shots per binding (registers: ${names.join(', ') || 'none'}); fetch the job's results and check them`,
      false,
    );
  return Array.from({ length: rows }, (_, r) => {
    const row: Record<string, RegisterSamples> = Object.create(null);
    for (const name of names) {
      const rowSamples = data[name]!.samples[r];
      if (!Array.isArray(rowSamples))
        throw new BackendError(
          backend,
          `the sweep's PUB result has no shots for binding ${r} in register ${name}`,
          false,
        );
      row[name] = { samples: rowSamples as string[], num_bits: data[name]!.num_bits };
    }
    return { ...common, counts: samplesToCounts(backend, row, cregs) };
  });
}
