/**
 * `placement_group_create_removal`, as Ray's microbenchmark measures it: rounds of 100
 * one-bundle SPREAD groups (`{ custom: 0.001 }`) created, each waited on until ready, then all
 * removed; groups per second over about 5 s on an embedded `init()` (Ray: 872/s).
 *
 *   npx tsx bench/placement-group-bench.ts [--quick]
 */
import { fileURLToPath } from 'node:url';
import { init, shutdown, placementGroup, removePlacementGroup, isInitialized } from 'orrery-compute';
import { measureRate } from './measure.ts';

/** Groups per round (Ray's `num_pgs`). */
const GROUPS_PER_ROUND = 100;

/** One result line of the suite. */
export interface PlacementGroupBenchResult {
  readonly metric: 'placement_group_create_removal';
  readonly value: number;
  readonly unit: 'groups/s';
  readonly system: 'orrery';
  readonly peer: 'Ray 872/s';
  readonly ops: number;
  readonly seconds: number;
  readonly note: string;
}

/**
 * Runs the workload for about `seconds` (after a short warm-up) and returns its result. Starts
 * its own embedded head unless the caller already called `init()`.
 */
export async function runPlacementGroupBench(opts: { seconds?: number } = {}): Promise<PlacementGroupBenchResult> {
  const seconds = opts.seconds ?? 5;
  const own = !isInitialized();
  if (own) await init({ numCpus: 1, resources: { custom: 1000 }, logToDriver: false });
  try {
    const rate = await measureRate(
      {
        quick: false,
        seconds,
        warmupSeconds: Math.min(0.5, seconds / 10),
        warmupRounds: 1,
        batch: GROUPS_PER_ROUND,
        waitRefs: 0,
        putGetBytes: 0,
        queuedTasks: 0,
      },
      GROUPS_PER_ROUND,
      async () => {
        const groups = Array.from({ length: GROUPS_PER_ROUND }, () =>
          placementGroup([{ custom: 0.001 }], { strategy: 'SPREAD' }),
        );
        for (const pg of groups)
          if (!(await pg.wait(30_000))) throw new Error(`placement group ${pg.id} was not ready within 30 s`);
        for (const pg of groups) removePlacementGroup(pg);
      },
    );
    return {
      metric: 'placement_group_create_removal',
      value: rate.value,
      unit: 'groups/s',
      system: 'orrery',
      peer: 'Ray 872/s',
      ops: rate.ops,
      seconds: rate.seconds,
      note: `rounds of ${GROUPS_PER_ROUND} one-bundle SPREAD groups: create, wait for each, remove (Ray's microbenchmark)`,
    };
  } finally {
    if (own) await shutdown();
  }
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const result = await runPlacementGroupBench({ seconds: process.argv.includes('--quick') ? 0.5 : 5 });
  console.log(JSON.stringify(result));
}
