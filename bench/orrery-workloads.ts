/**
 * Orrery's side of the suite, mirroring Ray's microbenchmarks: one embedded `init()` with the
 * default node (one CPU per core), each workload warmed up and then timed. Prints one JSON
 * line per metric (see report.ts for their definitions).
 *
 * `--only <metric,...>` runs only those workloads (for profiling, see profiling/summarize-profile.ts).
 *
 *   npx tsx bench/orrery-workloads.ts [--quick] [--only <metric,...>]
 */
import { init, remote, get, put, wait, shutdown, type ObjectRef } from 'orrery-compute';
import { budgetFor, measureRate, type Rate } from './measure.ts';

const budget = budgetFor(process.argv.includes('--quick'));
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex >= 0 ? new Set(process.argv[onlyIndex + 1]?.split(',')) : undefined;
const selected = (metric: string): boolean => only === undefined || only.has(metric);

function emit(metric: string, rate: Rate, unit: string, note: string, extra: Record<string, unknown> = {}): void {
  console.log(
    JSON.stringify({
      metric,
      value: rate.value,
      unit,
      system: 'orrery',
      ops: rate.ops,
      seconds: rate.seconds,
      note,
      ...extra,
    }),
  );
}

function rssMiB(): number {
  return Math.round(process.memoryUsage().rss / 2 ** 20);
}

/** The actor of the actor-call workloads: one method that does nothing. */
class Echo {
  small(): number {
    return 0;
  }
}

async function main(): Promise<void> {
  await init({ logToDriver: false });
  const noop = remote(function noop() {
    return 0;
  });
  const identity = remote(function identity(x: Float64Array) {
    return x;
  });
  const actor = remote(Echo).remote();

  if (selected('single_client_tasks_sync')) {
    emit(
      'single_client_tasks_sync',
      await measureRate(budget, 1, async () => void (await get(noop.remote()))),
      'tasks/s',
      'submit one no-op task, get it, repeat',
    );
  }
  if (selected('single_client_tasks_async')) {
    emit(
      'single_client_tasks_async',
      await measureRate(budget, budget.batch, async () => {
        await get(Array.from({ length: budget.batch }, () => noop.remote()));
      }),
      'tasks/s',
      `submit ${budget.batch} no-op tasks, then get them all`,
    );
  }
  if (selected('actor_calls_sync_1_1')) {
    emit(
      'actor_calls_sync_1_1',
      await measureRate(budget, 1, async () => void (await get(actor.small.remote()))),
      'calls/s',
      'one actor; call one method, get it, repeat',
    );
  }
  if (selected('actor_calls_async_1_1')) {
    emit(
      'actor_calls_async_1_1',
      await measureRate(budget, budget.batch, async () => {
        await get(Array.from({ length: budget.batch }, () => actor.small.remote()));
      }),
      'calls/s',
      `one actor; submit ${budget.batch} calls, then get them all`,
    );
  }
  if (selected('single_client_wait_1k_refs')) {
    const rate = await measureRate(budget, 1, async () => {
      let notReady: ObjectRef<number>[] = Array.from({ length: budget.waitRefs }, () => noop.remote());
      while (notReady.length > 0) ({ notReady } = await wait(notReady));
    });
    emit(
      'single_client_wait_1k_refs',
      rate,
      'rounds/s',
      `a round submits ${budget.waitRefs} no-op tasks, then calls wait(notReady) (numReturns 1) until none is left, as Ray's benchmark does`,
      { refs_per_round: budget.waitRefs },
    );
  }
  if (selected('put_get_gigabytes')) {
    // On a fresh runtime, as each peer does too: a head that just ran 100k tasks holds their
    // records (and workers their recent results), whose GC would be measured here as well.
    await shutdown();
    await init({ logToDriver: false });
    const array = new Float64Array(budget.putGetBytes / 8);
    for (let i = 0; i < array.length; i++) array[i] = Math.random();
    const gigabytes = budget.putGetBytes / 1e9;
    const rssBefore = rssMiB();
    const rate = await measureRate({ ...budget, warmupSeconds: 0 }, 1, async () => {
      const back = await get(identity.remote(put(array)));
      if (back.length !== array.length || back[7] !== array[7]) throw new Error('put_get: the array came back changed');
    });
    emit(
      'put_get_gigabytes',
      { ...rate, value: rate.value * gigabytes },
      'GB/s',
      `on a fresh init(): round trip = put(${gigabytes} GB Float64Array) + identity task + get; GB/s = ${gigabytes} GB / seconds per round trip`,
      {
        bytes: budget.putGetBytes,
        seconds_per_round_trip: rate.seconds / rate.ops,
        round_trips: rate.ops,
        driver_rss_mib_before: rssBefore,
        driver_rss_mib_after: rssMiB(),
      },
    );
  }
  await shutdown();
}

await main();
