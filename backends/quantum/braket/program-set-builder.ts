/**
 * How circuit runs become Braket program sets (action `braket.ir.openqasm.program_set` v1,
 * amazon-braket-schemas `braket/ir/openqasm/program_set_v1.py`): which runs may share a set (one
 * shot count per executable and one set of device parameters, since a set's `shots` is the total
 * over its executables and its `deviceParameters` cover them all), how many fit (the device's
 * `maximumExecutables` and `maximumTotalShots`), and the `programs` list: runs of one
 * parametrised OpenQASM 3 source become ONE program whose `inputs` hold one list per `input`
 * (the service binds each input set); any other run is a program of its own.
 */
import { toQasm3 } from '../qasm/index.ts';
import type { CircuitRun } from '../run-types.ts';
import type { ProgramSetLimits } from './device.ts';

/** One program of a set as Braket takes it. */
export interface SetProgram {
  readonly source: string;
  /** Per `input` name, its value in each input set (a null-prototype record: names come from users). */
  readonly inputs?: Record<string, number[]>;
}

/** A set's programs, and for each run (in the order given) its executable's index in the set. */
export interface BuiltProgramSet {
  readonly programs: SetProgram[];
  readonly indexOf: number[];
}

/**
 * Cuts runs into groups that may share a program set: same shots and device parameters, at most
 * `maximumExecutables` runs and `maximumTotalShots` shots in all. A group whose total stays under
 * the device's `minimumTotalShots` is kept, and its caller sends it as single tasks.
 */
export function chunkForProgramSets<T extends { readonly run: CircuitRun }>(
  members: readonly T[],
  limits: ProgramSetLimits,
): T[][] {
  const kind = (m: T) => `${m.run.shots}\u0000${JSON.stringify(m.run.braketOptions ?? {})}`;
  const sorted = [...members].sort((a, b) => a.run.shots - b.run.shots || kind(a).localeCompare(kind(b)));
  const chunks: T[][] = [];
  let current: T[] = [];
  for (const m of sorted) {
    const fits =
      current.length > 0 &&
      kind(current[0]!) === kind(m) &&
      current.length + 1 <= limits.maximumExecutables &&
      (current.length + 1) * m.run.shots <= limits.maximumTotalShots;
    if (current.length > 0 && !fits) {
      chunks.push(current);
      current = [];
    }
    current.push(m);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Builds the `programs` of one set from `runs` (one executable each). */
export function buildProgramSet(runs: readonly CircuitRun[]): BuiltProgramSet {
  const programs: SetProgram[] = [];
  const swept = new Map<string, number>();
  const slots: { program: number; inputSet: number }[] = [];
  for (const run of runs) {
    const names = Object.keys(run.params ?? {}).sort();
    if (names.length === 0 || !isQasm3(run.source)) {
      slots.push({ program: programs.push({ source: toQasm3(run.circuit) }) - 1, inputSet: 0 });
      continue;
    }
    const key = `${run.source}\u0000${names.join('\u0000')}`;
    let p = swept.get(key);
    if (p === undefined) {
      const inputs: Record<string, number[]> = Object.create(null);
      for (const n of names) inputs[n] = [];
      p = programs.push({ source: run.source, inputs }) - 1;
      swept.set(key, p);
    }
    const inputs = programs[p]!.inputs!;
    for (const n of names) inputs[n]!.push(run.params![n]!);
    slots.push({ program: p, inputSet: inputs[names[0]!]!.length - 1 });
  }
  const offsets: number[] = [];
  let executables = 0;
  for (const program of programs) {
    offsets.push(executables);
    const lists = Object.values(program.inputs ?? {});
    executables += lists.length === 0 ? 1 : lists[0]!.length;
  }
  return { programs, indexOf: slots.map((s) => offsets[s.program]! + s.inputSet) };
}

/** Whether a source is OpenQASM 3 (whose `input` declarations Braket binds); OpenQASM 2 has none. */
function isQasm3(source: string): boolean {
  return /^(\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*OPENQASM\s+3/.test(source);
}
