/**
 * The body of a circuit task. It travels to the worker as source text like any task, so it
 * captures nothing: the quantum node's environment says where its backend's runner is.
 */
import type { CircuitCall } from '../../backends/quantum/circuit-task.ts';
import type { CircuitResult } from '../../backends/quantum/run-types.ts';

/** Runs a circuit call on the quantum backend of the worker's node. */
export async function runCircuitTask(call: CircuitCall): Promise<CircuitResult> {
  const runnerUrl = process.env.ORRERY_CIRCUIT_RUNNER;
  if (!runnerUrl) {
    throw new Error('circuit tasks run only on nodes of a quantum backend (kinds quantum-simulator, ibm-quantum, braket); this task was placed elsewhere, probably because its resources option replaced the default { QPU: 1 }');
  }
  const orrery = await import('orrery');
  const { executeCircuit } = (await import(runnerUrl)) as typeof import('../../backends/quantum/circuit-task.ts');
  const ctx = orrery.getRuntimeContext();
  return executeCircuit(call, {
    signal: ctx.signal ?? new AbortController().signal,
    report: (info) => orrery.recordTaskInfo(info),
    log: (line) => console.log(line),
  });
}
