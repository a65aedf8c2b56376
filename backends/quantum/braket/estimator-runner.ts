/**
 * Estimator tasks on Braket by basis-rotated sampling computed locally: the observables' terms
 * are grouped by qubit-wise commutation, each group is one quantum task of the circuit rotated
 * into its basis (run by {@link runOnBraket}), and values and stds come from the counts.
 */
import type { EstimatorRun, EstimatorTaskResult } from '../estimator-run.ts';
import type { CircuitResult, CircuitRun } from '../run-types.ts';
import { estimatesFromCounts, measurementPlan, rotatedCircuit, shotsForPrecision } from '../expectation.ts';
import { toQasm3 } from '../qasm/index.ts';
import { runOnBraket } from './braket-runner.ts';
import type { BraketConfig } from './config.ts';

/** Shots per basis when the task gives neither shots nor precision (precision 1/64, IBM's default). */
export const DEFAULT_ESTIMATOR_SHOTS = 4096;

/**
 * Runs `run` as one Braket quantum task per measurement basis, all submitted at once (each
 * would otherwise wait in the device queue after the last), through `runCircuit` (on a batching
 * backend: the batcher, so the bases of the tasks ready together share a program set). When one
 * fails the others are cancelled, and cancelling the task cancels them all.
 */
export async function estimateOnBraket(
  config: BraketConfig,
  run: EstimatorRun,
  runCircuit: (basis: CircuitRun) => Promise<CircuitResult> = (basis) => runOnBraket(config, basis),
): Promise<EstimatorTaskResult> {
  const started = performance.now();
  if (run.signal.aborted) throw run.signal.reason;
  const shots = run.shots ?? (run.precision !== undefined ? shotsForPrecision(run.precision) : DEFAULT_ESTIMATOR_SHOTS);
  const plan = measurementPlan(run.observables);
  run.log(
    `braket: ${plan.length} measurement basis group(s) for ${run.observables.length} observable(s), ${shots} shots each`,
  );
  const group = new AbortController();
  const stop = () => group.abort(run.signal.reason);
  run.signal.addEventListener('abort', stop, { once: true });
  const jobIds = new Array<string>(plan.length).fill('');
  /** The first basis task's failure, which cancelled the others: the task fails with it. */
  let cause: unknown;
  try {
    // Settle every basis before answering, so a cancelled or failed task leaves none running.
    const settled = await Promise.allSettled(
      plan.map(async (b, i) => {
        const circuit = rotatedCircuit(run.circuit, b.basis);
        try {
          return await runCircuit({
            ...run,
            circuit,
            source: toQasm3(circuit),
            shots,
            resumeJobId: undefined,
            signal: group.signal,
            report: (info) => {
              if (typeof info.jobId === 'string') jobIds[i] = info.jobId;
              run.report({ ...info, basis: b.basis, basisIndex: i, bases: plan.length, jobIds: jobIds.join(',') });
            },
          });
        } catch (err) {
          if (!group.signal.aborted) {
            cause = err;
            group.abort(err);
          }
          throw err;
        }
      }),
    );
    const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw cause ?? failed.reason;
    const results = settled.map((x) => (x as PromiseFulfilledResult<CircuitResult>).value);
    const result = estimatesFromCounts(
      run.observables,
      plan,
      results.map((r) => r.counts),
    );
    return {
      ...result,
      device: results[0]?.device ?? run.device ?? config.deviceArn,
      backend: config.name,
      durationMs: performance.now() - started,
      jobIds: results.map((r) => r.jobId ?? ''),
    };
  } finally {
    run.signal.removeEventListener('abort', stop);
  }
}
