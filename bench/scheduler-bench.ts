/**
 * Scheduler throughput: 100,000 one-CPU tasks queued at once on 1,000 nodes of 8 CPUs. Only
 * 8,000 fit at a time, so the rest are placed as earlier ones are released, the way a busy
 * head drives the scheduler. Prints one JSON line: the assignments per second over the run.
 */
import { unitsOf } from '../orchestrator/core/resources.ts';
import { ClusterScheduler } from '../orchestrator/scheduler/cluster-scheduler.ts';
import type { SchedulerDecision } from '../orchestrator/scheduler/types.ts';

const NODES = 1_000;
const CPUS_PER_NODE = 8;
const TASKS = 100_000;
const RUNS = 3;

/** Runs the workload once; returns assignments per second. */
function run(): number {
  const scheduler = new ClusterScheduler({ infeasibleGraceMs: 5_000 });
  const total = unitsOf({ CPU: CPUS_PER_NODE });
  for (let i = 0; i < NODES; i++) {
    scheduler.handle({ type: 'node-added', node: { nodeId: `n${i}`, backend: 'local', total, labels: {} }, now: 0 });
  }
  const resources = unitsOf({ CPU: 1 });
  // Released in the order they were assigned, as a stand-in for tasks of equal length.
  const runningIds: string[] = [];
  let next = 0;
  let assigned = 0;
  const collect = (decisions: SchedulerDecision[]): void => {
    for (const d of decisions) {
      if (d.type !== 'assign') throw new Error(`unexpected decision ${JSON.stringify(d)}`);
      runningIds.push(d.requestId);
      assigned++;
    }
  };
  const start = process.hrtime.bigint();
  for (let i = 0; i < TASKS; i++) {
    collect(
      scheduler.handle({ type: 'queued', request: { requestId: `t${i}`, resources, strategy: 'DEFAULT' }, now: 0 }),
    );
  }
  while (assigned < TASKS) {
    collect(scheduler.handle({ type: 'released', leaseId: runningIds[next++]!, now: 0 }));
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (scheduler.queuedCount() !== 0) throw new Error('tasks left in the queue');
  return assigned / seconds;
}

// The first run warms up the JIT; report the median of the others.
run();
const rates = Array.from({ length: RUNS }, run).sort((a, b) => a - b);
const value = Math.round(rates[Math.floor(RUNS / 2)]!);
console.log(JSON.stringify({ metric: 'scheduler_decisions_per_s', value, unit: 'decisions/s' }));
