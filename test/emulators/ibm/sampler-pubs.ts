/**
 * Sampler V2 PUBs as the IBM emulator reads and answers them: `[circuit, parameter_values?,
 * shots?]` with an OpenQASM 3 circuit. A circuit with `input float[64]` parameters takes
 * parameter_values, one row per binding whose columns follow the circuit's parameters sorted
 * by name (Qiskit's order); the PUB then runs once per row and each register's `samples` holds
 * one list of hex shots per row (the PUB's shape, then the shots).
 */
import { parseQasm, qasmInputs } from '../../../backends/quantum/qasm/index.ts';
import type { Circuit } from '../../../backends/quantum/circuit.ts';
import { pubResult, type SamplerPub } from './job-replies.ts';

export type { SamplerPub };

/** Reads PUB `i` of a Sampler job (`defaultShots` where it names none), or says why it is invalid. */
export function readSamplerPub(raw: unknown, i: number, defaultShots: number): SamplerPub | { error: string } {
  const pub = Array.isArray(raw) ? raw : [raw];
  if (typeof pub[0] !== 'string') return { error: `pub ${i} must start with an OpenQASM 3 string` };
  const shots = typeof pub[2] === 'number' ? pub[2] : defaultShots;
  const values: unknown = pub[1];
  if (values === undefined || values === null) return { qasm: pub[0], shots };
  if (
    !Array.isArray(values) ||
    values.length === 0 ||
    !values.every((row) => Array.isArray(row) && row.every((v) => typeof v === 'number' && Number.isFinite(v)))
  )
    return { error: `pub ${i}: parameter_values must be a non-empty array of rows of finite numbers` };
  let names: string[];
  try {
    names = sortedInputs(pub[0]);
  } catch (err) {
    return { error: `pub ${i}: the OpenQASM 3 program could not be parsed: ${(err as Error).message}` };
  }
  const bad = (values as number[][]).findIndex((row) => row.length !== names.length);
  if (bad >= 0)
    return {
      error: `pub ${i}: parameter_values row ${bad} has ${(values as number[][])[bad]!.length} values; the circuit has ${names.length} parameters (${names.join(', ') || 'none'})`,
    };
  return { qasm: pub[0], shots, parameterValues: values as number[][] };
}

/** Executions of a PUB: shots times bindings. */
export function pubExecutions(pub: SamplerPub): number {
  return pub.shots * (pub.parameterValues?.length ?? 1);
}

/** The PUB's circuits: one per row of parameter_values, or the one circuit. */
export function pubCircuits(pub: SamplerPub): Circuit[] {
  if (!pub.parameterValues) return [parseQasm(pub.qasm)];
  const names = sortedInputs(pub.qasm);
  return pub.parameterValues.map((row) => parseQasm(pub.qasm, Object.fromEntries(names.map((n, k) => [n, row[k]!]))));
}

/** The Sampler V2 JSON result of a PUB run as `circuits` (one per row when it has parameter_values). */
export function samplerPubResult(pub: SamplerPub, circuits: readonly Circuit[], seed: number | undefined): unknown {
  if (!pub.parameterValues) return pubResult(circuits[0]!, pub.shots, seed);
  type Data = Record<string, { samples: string[]; num_bits: number }>;
  const rows = circuits.map((c) => (pubResult(c, pub.shots, seed) as { data: Data }).data);
  const data: Record<string, { samples: string[][]; num_bits: number }> = {};
  for (const reg of circuits[0]!.cregs)
    data[reg.name] = { samples: rows.map((r) => r[reg.name]!.samples), num_bits: reg.size };
  return { data, metadata: { circuit_metadata: {} } };
}

/** A circuit's parameters in Qiskit's order (sorted by name). */
function sortedInputs(qasm: string): string[] {
  return [...qasmInputs(qasm)].sort();
}
