/**
 * The results.json of a program-set quantum task (schema `braket.task_result.program_set_task_result`
 * v1, amazon-braket-schemas `braket/task_result/`): one ProgramResult per program, each with one
 * executable result (`program_set_executable_result`: measurements over measuredQubits) or failure
 * (`program_set_executable_failure`: failureMetadata.failureReason) per input set, by inputsIndex.
 * Program results and executables may be inlined or given as S3 keys relative to the task's
 * output directory; `readPart` fetches the latter.
 */
import { BraketResultFormatError, type GateModelTaskResult } from './task-results.ts';

/** The header of program-set task results. */
export const PROGRAM_SET_RESULT_SCHEMA = 'braket.task_result.program_set_task_result';

/** What one executable ended with: a gate-model-shaped result, or the service's reason it failed. */
export type ExecutableOutcome = { readonly result: GateModelTaskResult } | { readonly failure: string };

interface ExecutableDoc {
  readonly inputsIndex?: unknown;
  readonly measurements?: number[][];
  readonly measurementProbabilities?: Record<string, number>;
  readonly measuredQubits?: number[];
  readonly failureMetadata?: { readonly failureReason?: unknown };
}

/**
 * The executables of a program-set result in program order, then input-set order (the order
 * a program set's executables are counted in), each turned into a result or a failure.
 */
export async function executableOutcomes(
  text: string,
  shotsPerExecutable: number,
  readPart: (relativeKey: string) => Promise<string>,
): Promise<ExecutableOutcome[]> {
  const doc = parse(text, 'results.json') as { braketSchemaHeader?: { name?: unknown }; programResults?: unknown };
  if (doc?.braketSchemaHeader?.name !== PROGRAM_SET_RESULT_SCHEMA)
    throw new BraketResultFormatError(
      `results.json has schema ${JSON.stringify(doc?.braketSchemaHeader?.name)}, expected ${PROGRAM_SET_RESULT_SCHEMA}`,
    );
  if (!Array.isArray(doc.programResults)) throw new BraketResultFormatError('results.json has no programResults list');
  const taskId = String((doc as { taskMetadata?: { id?: unknown } }).taskMetadata?.id ?? '');
  const out: ExecutableOutcome[] = [];
  for (const [p, entry] of doc.programResults.entries()) {
    const program = (typeof entry === 'string' ? parse(await readPart(entry), entry) : entry) as {
      executableResults?: unknown;
    };
    if (!Array.isArray(program?.executableResults))
      throw new BraketResultFormatError(`programResults[${p}] has no executableResults list`);
    const executables: ExecutableDoc[] = [];
    for (const e of program.executableResults)
      executables.push((typeof e === 'string' ? parse(await readPart(e), e) : e) as ExecutableDoc);
    executables.sort((a, b) => Number(a.inputsIndex ?? 0) - Number(b.inputsIndex ?? 0));
    for (const e of executables) {
      if (e.failureMetadata)
        out.push({ failure: String(e.failureMetadata.failureReason ?? 'Braket gave no reason for the executable') });
      else
        out.push({
          result: {
            braketSchemaHeader: { name: 'braket.task_result.gate_model_task_result', version: '1' },
            ...(e.measurements !== undefined && { measurements: e.measurements }),
            ...(e.measurementProbabilities !== undefined && { measurementProbabilities: e.measurementProbabilities }),
            ...(e.measuredQubits !== undefined && { measuredQubits: e.measuredQubits }),
            taskMetadata: { id: taskId, shots: shotsPerExecutable, deviceId: '' },
          },
        });
    }
  }
  return out;
}

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BraketResultFormatError(`${what} is not JSON: ${(err as Error).message}`);
  }
}
