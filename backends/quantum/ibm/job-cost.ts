/**
 * The cost steps of an IBM Quantum job, around its submission and end (ibm-runner.ts): reserve
 * its estimated cost against the head's budgets before it is submitted, and record what it
 * cost (`costUsd`, `quantumSeconds`, `costBasis` in the task's info) from its metrics once it
 * reached a final state: failed and cancelled jobs are billed for the usage they had too.
 */
import type { CircuitRun, TaskInfo } from '../run-types.ts';
import type { IbmQuantumConfig } from './config.ts';
import type { RuntimeClient } from './runtime-client.ts';
import {
  DEFAULT_IBM_PLAN,
  costOfUsage,
  estimateIbmJob,
  loadIbmPriceTable,
  rateOf,
  usageSeconds,
  type IbmCost,
} from './usage-cost.ts';

/**
 * Estimates a job of `circuits` circuits x `shots` shots and reserves it against the budgets
 * (rejects with BudgetExceededError, so nothing is submitted). Undefined for a plan without a price.
 */
export async function reserveIbmJob(
  config: IbmQuantumConfig,
  run: Pick<CircuitRun, 'reserve'>,
  device: string,
  circuits: number,
  shots: number,
): Promise<IbmCost | undefined> {
  const table = loadIbmPriceTable();
  const rate = rateOf(table, config.plan ?? DEFAULT_IBM_PLAN, config.usdPerSecond);
  if (!rate) return undefined;
  const estimate = estimateIbmJob(table, rate, circuits, shots);
  await run.reserve?.(
    estimate.costUsd,
    `IBM Quantum job on ${device} (${circuits} circuit${circuits === 1 ? '' : 's'} x ${shots} shots)`,
  );
  return estimate;
}

/**
 * Records the cost of job `id` from its metrics; without usage in them (or when they cannot be
 * read) the estimate stands in, so a budget still counts the job.
 */
export async function reportIbmCost(
  client: RuntimeClient,
  config: IbmQuantumConfig,
  id: string,
  run: Pick<CircuitRun, 'log'>,
  report: (info: TaskInfo) => void,
  estimate: IbmCost | undefined,
): Promise<void> {
  const table = loadIbmPriceTable();
  const rate = rateOf(table, config.plan ?? DEFAULT_IBM_PLAN, config.usdPerSecond);
  if (!rate) return;
  let seconds: number | undefined;
  try {
    seconds = usageSeconds(await client.metrics(id));
  } catch (err) {
    run.log(`IBM Quantum job ${id}: could not read its metrics for the cost (${(err as Error).message})`);
  }
  const cost = seconds !== undefined ? costOfUsage(table, rate, seconds) : estimate;
  if (!cost) return;
  report({ costUsd: cost.costUsd, quantumSeconds: cost.quantumSeconds, costBasis: cost.basis });
  run.log(`IBM Quantum job ${id}: $${cost.costUsd.toFixed(4)} (${cost.basis})`);
}
