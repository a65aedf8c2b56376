/**
 * tasks_queued_1m_rss_mb: the driver's resident memory with a million no-op tasks queued. The
 * node has one CPU and a first task holds it (it sleeps), so every later task stays queued in
 * the embedded head. Runs in its own process so earlier workloads do not inflate the RSS.
 *
 * With `--shutdown N` it instead queues N tasks the same way and times `shutdown()`, which has
 * to cancel them all (metric shutdown_with_queued_tasks_s). Without it the process exits
 * without shutting down: the node's agent and workers end when the driver's pipes close.
 *
 *   npx tsx bench/orrery-queued-rss.ts [--quick] [--shutdown N]
 */
import { init, remote, shutdown, state } from 'orrery-compute';
import { budgetFor } from './measure.ts';

const budget = budgetFor(process.argv.includes('--quick'));
const shutdownIndex = process.argv.indexOf('--shutdown');
const shutdownTasks = shutdownIndex >= 0 ? Number(process.argv[shutdownIndex + 1]) : undefined;

function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

/** Starts the runtime with one CPU, occupies it, and queues `n` no-op tasks behind it. */
async function queueBehindBlocker(n: number): Promise<{ submitSeconds: number; rssAfterInit: number }> {
  await init({ numCpus: 1, logToDriver: false });
  const block = remote(async function block(ms: number) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return 0;
  });
  const noop = remote(function noop() {
    return 0;
  });
  block.remote(10 * 60_000);
  // The blocker must hold the CPU before the flood, or some no-ops would run.
  for (let i = 0; i < 200; i++) {
    const running = await state.listTasks({ filters: [['state', '=', 'RUNNING']] });
    if (running.length > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const rssAfterInit = rssMiB();
  const start = performance.now();
  for (let i = 0; i < n; i++) noop.remote();
  return { submitSeconds: (performance.now() - start) / 1000, rssAfterInit };
}

async function measureRss(): Promise<void> {
  const n = budget.queuedTasks;
  const rssBeforeInit = rssMiB();
  const { submitSeconds, rssAfterInit } = await queueBehindBlocker(n);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const rss = rssMiB();
  console.log(
    JSON.stringify({
      metric: 'tasks_queued_1m_rss_mb',
      value: Math.round(rss),
      unit: 'MiB',
      system: 'orrery',
      ops: n,
      seconds: submitSeconds,
      note: `driver RSS (MiB) with ${n} no-op tasks queued behind a task holding the node's only CPU`,
      queued_tasks: n,
      rss_mib_before_init: Math.round(rssBeforeInit),
      rss_mib_after_init: Math.round(rssAfterInit),
      heap_used_mib: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
      submit_rate_per_s: Math.round(n / submitSeconds),
      task_summary: await state.summarizeTasks(),
    }),
  );
}

async function measureShutdown(n: number): Promise<void> {
  await queueBehindBlocker(n);
  const start = performance.now();
  await shutdown();
  const seconds = (performance.now() - start) / 1000;
  console.log(
    JSON.stringify({
      metric: 'shutdown_with_queued_tasks_s',
      value: seconds,
      unit: 's',
      system: 'orrery',
      ops: n,
      seconds,
      note: `seconds shutdown() takes with ${n} tasks queued (it cancels them)`,
      queued_tasks: n,
    }),
  );
}

if (shutdownTasks !== undefined) await measureShutdown(shutdownTasks);
else await measureRss();
process.exit(0);
