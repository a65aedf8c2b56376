/**
 * The body of an Estimator task. Like circuit-runner.ts it travels as source text and captures
 * nothing; the worker side lives in the circuit-task entry (a literal specifier, see there).
 */
import type { EstimatorCall, EstimatorTaskResult } from '../head/backend-registry.ts';

/** Runs an Estimator call on the quantum backend of the worker's node. */
export async function runEstimatorTask(call: EstimatorCall): Promise<EstimatorTaskResult> {
  if (!process.env.ORRERY_CIRCUIT_BACKEND) {
    throw new Error(
      'estimator tasks run only on nodes of a quantum backend (kinds quantum-simulator, ibm-quantum, braket); this task was placed elsewhere, probably because its resources option replaced the default { QPU: 1 }',
    );
  }
  const orrery = await import('orrery-compute');
  const { executeEstimator } = await import('orrery-compute/internal/circuit-task');
  const ctx = orrery.getRuntimeContext();
  return executeEstimator(call, {
    signal: ctx.signal ?? new AbortController().signal,
    report: (info) => orrery.recordTaskInfo(info),
    log: (line) => console.log(line),
    reserve: async (usd, what) => void (await orrery.reserveBudget(usd, what)),
  });
}
