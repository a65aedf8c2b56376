/**
 * A parameter sweep (`circuit().map`) on a braket backend that does not batch (`batchWindowMs: 0`):
 * its bindings still go out together through runBraketBatch, so a device that lists program sets
 * gets ONE program with one input set per binding, and any other device one task per binding.
 * (A batching backend's bindings reach its batcher together and meet the same fate there.)
 */
import { parseQasm } from '../qasm/index.ts';
import type { CircuitResult, CircuitRun } from '../run-types.ts';
import type { BraketConfig } from './config.ts';
import { reserveBraketTask } from './pricing.ts';
import { runBraketBatch } from './program-set-runner.ts';

/** The sweep's circuit as the task passed it, and the task's hooks. */
export interface BraketSweep {
  readonly source: string;
  readonly shots: number;
  readonly device?: string;
  readonly braketOptions?: Readonly<Record<string, unknown>>;
  readonly bindings: readonly Readonly<Record<string, number>>[];
  readonly hooks: Pick<CircuitRun, 'signal' | 'report' | 'log' | 'reserve'>;
}

/** Runs every binding of the sweep; one result per binding, in order (the first failure fails the task). */
export async function runSweepOnBraket(config: BraketConfig, s: BraketSweep): Promise<CircuitResult[]> {
  const device = s.device ?? config.deviceArn;
  // Each binding reserves a task's estimate up front: a program set costs no more than its parts alone.
  for (let i = 0; i < s.bindings.length; i++) await reserveBraketTask(s.hooks.reserve, device, s.shots);
  const runs: CircuitRun[] = s.bindings.map((params) => ({
    circuit: parseQasm(s.source, params),
    source: s.source,
    shots: s.shots,
    device: s.device,
    params,
    ...(s.braketOptions !== undefined && { braketOptions: s.braketOptions }),
    signal: s.hooks.signal,
    report: s.hooks.report,
    log: s.hooks.log,
  }));
  const outcomes = await runBraketBatch(config, runs);
  const failed = outcomes.find((o) => o instanceof Error);
  if (failed) throw failed;
  return outcomes as CircuitResult[];
}
