/**
 * Estimator tasks on Braket by basis-rotated sampling computed locally: the observables' terms
 * are grouped by qubit-wise commutation, each group is one quantum task of the circuit rotated
 * into its basis (run by {@link runOnBraket}), and values and stds come from the counts.
 */
import type { EstimatorRun, EstimatorTaskResult } from '../estimator-run.ts';
import { estimatesFromCounts, measurementPlan, rotatedCircuit, shotsForPrecision } from '../expectation.ts';
import { toQasm3 } from '../qasm/index.ts';
import { runOnBraket } from './braket-runner.ts';
import type { BraketConfig } from './config.ts';

/** Shots per basis when the task gives neither shots nor precision (precision 1/64, IBM's default). */
export const DEFAULT_ESTIMATOR_SHOTS = 4096;

/** Runs `run` as one Braket quantum task per measurement basis, one after another. */
export async function estimateOnBraket(config: BraketConfig, run: EstimatorRun): Promise<EstimatorTaskResult> {
  const started = performance.now();
  const shots = run.shots ?? (run.precision !== undefined ? shotsForPrecision(run.precision) : DEFAULT_ESTIMATOR_SHOTS);
  const plan = measurementPlan(run.observables);
  run.log(
    `braket: ${plan.length} measurement basis group(s) for ${run.observables.length} observable(s), ${shots} shots each`,
  );
  const counts = [];
  const jobIds: string[] = [];
  let device = run.device ?? config.deviceArn;
  for (const [i, group] of plan.entries()) {
    const circuit = rotatedCircuit(run.circuit, group.basis);
    const r = await runOnBraket(config, {
      ...run,
      circuit,
      source: toQasm3(circuit),
      shots,
      resumeJobId: undefined,
      report: (info) => run.report({ ...info, basis: group.basis, basisIndex: i, bases: plan.length }),
    });
    counts.push(r.counts);
    if (r.jobId) jobIds.push(r.jobId);
    device = r.device;
  }
  const result = estimatesFromCounts(run.observables, plan, counts);
  return { ...result, device, backend: config.name, durationMs: performance.now() - started, jobIds };
}
