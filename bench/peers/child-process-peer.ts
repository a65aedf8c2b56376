/**
 * The child_process peer: the IPC floor under any local task path. A parent forks one child
 * (advanced serialization) that echoes every message, and measures sync round trips (send one,
 * await its echo), pipelined messages (send a batch, await all echoes) and a 100 MB
 * Float64Array sent to the child and back. Prints one JSON line per metric.
 *
 *   npx tsx bench/peers/child-process-peer.ts [--quick]
 */
import { fork, type ChildProcess, type Serializable } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { budgetFor, measureRate, type Budget } from '../measure.ts';

const ECHO = fileURLToPath(new URL('./echo-child.ts', import.meta.url));
const SYSTEM = 'child_process';

/** Sends `m` and resolves with the next message from the child. */
function makeEcho(child: ChildProcess): (m: Serializable, count?: number) => Promise<unknown> {
  let waiting: { left: number; resolve: (m: unknown) => void; last?: unknown } | undefined;
  child.on('message', (m) => {
    if (!waiting) return;
    waiting.last = m;
    if (--waiting.left === 0) {
      const w = waiting;
      waiting = undefined;
      w.resolve(w.last);
    }
  });
  return (m, count = 1) =>
    new Promise((resolve) => {
      waiting = { left: count, resolve };
      for (let i = 0; i < count; i++) child.send(m);
    });
}

function line(metric: string, r: { value: number; ops: number; seconds: number }, unit: string, note: string): void {
  console.log(JSON.stringify({ metric, value: r.value, unit, system: SYSTEM, ops: r.ops, seconds: r.seconds, note }));
}

async function main(): Promise<void> {
  const budget: Budget = budgetFor(process.argv.includes('--quick'));
  const child = fork(ECHO, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const echo = makeEcho(child);
  await echo({ hello: 1 });
  const small = { taskId: 'x'.repeat(20), value: 0 };

  const sync = await measureRate(budget, 1, () => echo(small).then(() => undefined));
  const pipelined = await measureRate(budget, budget.batch, () => echo(small, budget.batch).then(() => undefined));
  const note = 'fork() + advanced serialization, one echo child';
  for (const m of ['single_client_tasks_sync', 'actor_calls_sync_1_1'])
    line(m, sync, 'round trips/s', `${note}: one message out, its echo back`);
  for (const m of ['single_client_tasks_async', 'actor_calls_async_1_1'])
    line(m, pipelined, 'msgs/s', `${note}: ${budget.batch} messages out, all echoes back`);

  const big = new Float64Array(budget.putGetBytes / 8);
  const gb = budget.putGetBytes / 1e9;
  const putGet = await measureRate({ ...budget, warmupSeconds: 0 }, 1, async () => {
    const back = (await echo(big)) as Float64Array;
    if (back.length !== big.length) throw new Error('echo returned a different array');
  });
  line(
    'put_get_gigabytes',
    { ...putGet, value: putGet.value * gb },
    'GB/s',
    `${gb} GB Float64Array to the child and back per round trip (GB/s = ${gb} / seconds per round trip)`,
  );
  child.disconnect();
}

await main();
