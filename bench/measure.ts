/** Time budgets and the timing loop shared by every TypeScript workload of the suite. */

/** How long and how big each workload runs. */
export interface Budget {
  readonly quick: boolean;
  /** Seconds each metric is measured for, after its warm-up. */
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Rounds run as warm-up even when they take longer than warmupSeconds. */
  readonly warmupRounds: number;
  /** Calls submitted per round by the async workloads (Ray's microbenchmark uses 1000). */
  readonly batch: number;
  /** Refs per round of the wait workload. */
  readonly waitRefs: number;
  /** Size of the put_get array in bytes (Float64Array). */
  readonly putGetBytes: number;
  /** Tasks held queued for the RSS workload. */
  readonly queuedTasks: number;
}

/** The full suite's budget, or the smoke-test budget with `quick`. */
export function budgetFor(quick: boolean): Budget {
  return quick
    ? {
        quick,
        seconds: 0.3,
        warmupSeconds: 0.1,
        warmupRounds: 1,
        batch: 200,
        waitRefs: 100,
        putGetBytes: 10_000_000,
        queuedTasks: 10_000,
      }
    : {
        quick,
        seconds: 3,
        warmupSeconds: 0.5,
        warmupRounds: 1,
        batch: 1000,
        waitRefs: 1000,
        putGetBytes: 100_000_000,
        queuedTasks: 1_000_000,
      };
}

/** A measured rate: `ops` operations in `seconds`, `value` = ops per second. */
export interface Rate {
  readonly value: number;
  readonly ops: number;
  readonly seconds: number;
}

/**
 * Runs `round` (worth `opsPerRound` operations) for the warm-up, then repeatedly for
 * `budget.seconds` (at least once); returns operations per second over the measured rounds.
 */
export async function measureRate(budget: Budget, opsPerRound: number, round: () => Promise<void>): Promise<Rate> {
  let start = performance.now();
  for (let i = 0; i < budget.warmupRounds || performance.now() - start < budget.warmupSeconds * 1000; i++)
    await round();
  let ops = 0;
  start = performance.now();
  do {
    await round();
    ops += opsPerRound;
  } while (performance.now() - start < budget.seconds * 1000);
  const seconds = (performance.now() - start) / 1000;
  return { value: ops / seconds, ops, seconds };
}
