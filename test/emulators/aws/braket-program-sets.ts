/**
 * Program-set quantum tasks of the emulated Braket (action `braket.ir.openqasm.program_set` v1,
 * amazon-braket-schemas `braket/ir/openqasm/program_set_v1.py`): the checks CreateQuantumTask
 * makes (programs, equal-length `inputs` lists, the device's maximumExecutables and
 * maximumTotalShots, total shots divisible by the executables) and the results.json written once
 * the task completed (`braket.task_result.program_set_task_result` v1: one ProgramResult per
 * program, one ProgramSetExecutableResult per input set, inlined).
 */
import type { Circuit } from '../../../backends/quantum/circuit.ts';
import { parseQasm } from '../../../backends/quantum/qasm/index.ts';
import { QasmError } from '../../../backends/quantum/qasm/qasm-error.ts';
import { PROGRAM_SET_LIMITS, type EmulatedDevice } from './braket-devices.ts';

/** One program of a set as submitted. */
export interface SubmittedProgram {
  readonly source: string;
  readonly inputs?: Readonly<Record<string, readonly number[]>>;
}

/** One executable: a program bound to one of its input sets. */
export interface Executable {
  readonly program: number;
  readonly inputsIndex: number;
  readonly circuit: Circuit;
}

/** A checked program set: its programs, executables in program then input-set order, shots per executable. */
export interface CheckedProgramSet {
  readonly programs: readonly SubmittedProgram[];
  readonly executables: readonly Executable[];
  readonly shotsPerExecutable: number;
}

/** Checks a program-set action for `device`; a string is the ValidationException's message. */
export function checkProgramSet(device: EmulatedDevice, action: unknown, shots: number): CheckedProgramSet | string {
  const programs = (action as { programs?: unknown }).programs;
  if (!Array.isArray(programs) || programs.length === 0)
    return 'programs: the program set needs a list of at least 1 program';
  const executables: Executable[] = [];
  for (const [p, raw] of programs.entries()) {
    const program = raw as { source?: unknown; inputs?: unknown };
    if (typeof program?.source !== 'string') return `programs[${p}].source must be an OpenQASM string`;
    const inputs = (program.inputs ?? {}) as Record<string, unknown>;
    const lists = Object.values(inputs);
    if (lists.some((v) => !Array.isArray(v) || v.some((x) => typeof x !== 'number')))
      return 'All Program inputs must be lists when using ProgramSet';
    const lengths = new Set(lists.map((v) => (v as number[]).length));
    if (lengths.size > 1) return 'All Program inputs must have the same length when using ProgramSet';
    const count = lists.length === 0 ? 1 : [...lengths][0]!;
    for (let k = 0; k < count; k++) {
      const bound = Object.fromEntries(Object.entries(inputs).map(([name, v]) => [name, (v as number[])[k]!]));
      let circuit: Circuit;
      try {
        circuit = parseQasm(program.source, bound);
      } catch (err) {
        if (err instanceof QasmError)
          return `Invalid OpenQASM program at programs[${p}], input set ${k}: ${err.message}`;
        throw err;
      }
      if (circuit.numQubits > device.qubitCount)
        return `programs[${p}] needs ${circuit.numQubits} qubits; device ${device.arn} has ${device.qubitCount}`;
      executables.push({ program: p, inputsIndex: k, circuit });
    }
  }
  const limits = device.programSet ?? PROGRAM_SET_LIMITS;
  if (executables.length > limits.maximumExecutables)
    return `Program set has ${executables.length} executables; device ${device.arn} allows at most ${limits.maximumExecutables}`;
  if (!Number.isInteger(shots) || shots > limits.maximumTotalShots)
    return `Program set shots ${shots} exceed the ${limits.maximumTotalShots} total shots device ${device.arn} allows`;
  if (shots % executables.length !== 0)
    return `Program set shots ${shots} must be divisible by its ${executables.length} executables`;
  const shotsPerExecutable = shots / executables.length;
  if (shotsPerExecutable < Math.max(1, device.shotsRange[0]) || shotsPerExecutable > device.shotsRange[1])
    return `${shotsPerExecutable} shots per executable are outside the device's range [${device.shotsRange.join(', ')}]`;
  return { programs: programs as SubmittedProgram[], executables, shotsPerExecutable };
}

/** The task facts the results document names. */
export interface ProgramSetTaskFacts {
  readonly arn: string;
  readonly deviceArn: string;
  readonly shots: number;
  readonly outputS3Bucket: string;
  readonly outputS3Directory: string;
  readonly createdAt: Date;
  readonly endedAt: Date;
}

/** Samples a circuit the way a gate-model results.json reports it. */
export type Sampler = (circuit: Circuit, shots: number) => { measuredQubits: number[]; measurements: number[][] };

/**
 * The results.json of a completed program-set task. `failures` maps executable indexes (in
 * program, then input-set order) to the failureReason of an executable that failed.
 */
export function programSetResult(
  task: ProgramSetTaskFacts,
  set: CheckedProgramSet,
  sample: Sampler,
  failures: ReadonlyMap<number, string> = new Map(),
): unknown {
  const failed = (e: Executable) => failures.get(set.executables.indexOf(e));
  const programResults = set.programs.map((program, p) => ({
    braketSchemaHeader: { name: 'braket.task_result.program_result', version: '1' },
    executableResults: set.executables
      .filter((e) => e.program === p)
      .map((e) =>
        failed(e) === undefined
          ? {
              braketSchemaHeader: { name: 'braket.task_result.program_set_executable_result', version: '1' },
              inputsIndex: e.inputsIndex,
              ...sample(e.circuit, set.shotsPerExecutable),
            }
          : {
              braketSchemaHeader: { name: 'braket.task_result.program_set_executable_failure', version: '1' },
              inputsIndex: e.inputsIndex,
              failureMetadata: { failureReason: failed(e)!, retryable: false, category: 'DEVICE' },
            },
      ),
    source: { braketSchemaHeader: { name: 'braket.ir.openqasm.program', version: '1' }, ...program },
    additionalMetadata: { action: { braketSchemaHeader: { name: 'braket.ir.openqasm.program', version: '1' } } },
  }));
  return {
    braketSchemaHeader: { name: 'braket.task_result.program_set_task_result', version: '1' },
    programResults,
    taskMetadata: {
      braketSchemaHeader: { name: 'braket.task_result.program_set_task_metadata', version: '1' },
      id: task.arn,
      deviceId: task.deviceArn,
      requestedShots: task.shots,
      successfulShots: (set.executables.length - failures.size) * set.shotsPerExecutable,
      programMetadata: set.programs.map((_, p) => ({
        executables: set.executables
          .filter((e) => e.program === p)
          .map((e) =>
            failed(e) === undefined ? {} : { failureReason: failed(e)!, retryable: false, category: 'DEVICE' },
          ),
      })),
      createdAt: task.createdAt.toISOString(),
      endedAt: task.endedAt.toISOString(),
      status: 'COMPLETED',
      totalFailedExecutables: failures.size,
    },
    s3Location: [task.outputS3Bucket, task.outputS3Directory],
  };
}
