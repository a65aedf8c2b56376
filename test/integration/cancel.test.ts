/**
 * A plain cancel of running work that ignores `context.signal` (JavaScript cannot interrupt it,
 * as Ray interrupts Python with KeyboardInterrupt): the ref fails at once, and a task that has
 * not returned within the grace period loses its worker, which frees its resources. Modelled
 * on Ray's test_recursive_cancel (python/ray/tests/test_cancel.py).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { init, shutdown, remote, get, cancel, state, ObjectRef, TaskCancelledError } from 'orrery-compute';
import { alive, linesOf, sleep, tempDir, until } from './helpers.ts';

const dir = tempDir('cancel');

before(async () => {
  await init({ numCpus: 2, logToDriver: false });
});
after(shutdown);

/** Appends its pid to `file`, then loops on timers for `ms`, never looking at its signal. */
const spin = remote(async (file: string, ms: number) => {
  const fs = await import('node:fs');
  fs.appendFileSync(file, `${process.pid}\n`);
  const end = Date.now() + ms;
  while (Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return 'spun';
});

/** Milliseconds `p` takes to settle. */
async function timed(p: Promise<unknown>): Promise<number> {
  const t0 = Date.now();
  await p.catch(() => undefined);
  return Date.now() - t0;
}

describe('plain cancel of a task that ignores its signal', () => {
  test('recursive cancel: the outer and inner refs fail at once, and the grace period frees their CPUs', async () => {
    const file = join(dir, 'recursive');
    const outer = remote(async (f: string) => {
      const { remote } = await import('orrery-compute');
      const inner = remote(async (g: string) => {
        const fs = await import('node:fs');
        fs.appendFileSync(g, `${process.pid}\n`);
        const end = Date.now() + 60_000;
        while (Date.now() < end) await new Promise((r) => setTimeout(r, 50));
        return 'inner finished';
      });
      inner.remote(f);
      const fs = await import('node:fs');
      fs.appendFileSync(f, `${process.pid}\n`);
      const end = Date.now() + 60_000;
      while (Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      return 'outer finished';
    });
    const o = outer.remote(file);
    const pids = await until('both tasks to run', () => linesOf(file).length === 2 && linesOf(file).map(Number));
    const [innerRow] = await state.listTasks({ filters: [['parentTaskId', '=', o.id]] });
    assert.ok(innerRow, 'the inner task is listed with its parent');
    const inner = new ObjectRef<string>(innerRow.taskId as string);

    await cancel(o, { graceMs: 1000 });
    const ms = await timed(assert.rejects(get(o), TaskCancelledError));
    assert.ok(ms < 900, `get(outer) raised TaskCancelledError before the grace period ran out (${ms} ms)`);
    await assert.rejects(get(inner), TaskCancelledError);

    for (const pid of pids) await until(`worker ${pid} to be killed once the grace period passed`, () => !alive(pid));
    const all = remote({ numCpus: 2 }, () => 'ran on every CPU');
    assert.equal(
      await get(all.remote(), { timeoutMs: 10_000 }),
      'ran on every CPU',
      'the cancelled tasks no longer hold their CPUs',
    );
    const rows = await state.listTasks({ filters: [['taskId', '=', o.id]] });
    assert.equal(rows[0]?.errorType, 'TaskCancelledError');
  });

  test('a task that returns within the grace period keeps its worker', async () => {
    const file = join(dir, 'honours');
    const polite = remote(async (f: string) => {
      const fs = await import('node:fs');
      const { getRuntimeContext } = await import('orrery-compute');
      fs.appendFileSync(f, `${process.pid}\n`);
      const signal = getRuntimeContext().signal!;
      await new Promise((r) => signal.addEventListener('abort', r));
      return 'stopped';
    });
    const r = polite.remote(file);
    const [pid] = await until('the task to run', () => linesOf(file).length > 0 && linesOf(file).map(Number));
    await cancel(r, { graceMs: 300 });
    await assert.rejects(get(r), TaskCancelledError);
    await sleep(800);
    assert.ok(alive(pid!), 'its worker was not killed');
  });

  test('the default grace period is a few seconds, then the worker goes', async () => {
    const file = join(dir, 'default-grace');
    const r = spin.remote(file, 60_000);
    const [pid] = await until('the task to run', () => linesOf(file).length > 0 && linesOf(file).map(Number));
    await cancel(r);
    await assert.rejects(get(r), TaskCancelledError);
    await sleep(1000);
    assert.ok(alive(pid!), 'not killed before the grace period ends');
    await until('the worker to be killed', () => !alive(pid!), 10_000);
  });

  test('graceMs must be a number >= 0', async () => {
    await assert.rejects(cancel(spin.remote(join(dir, 'bad'), 0), { graceMs: -1 }), /graceMs/);
  });
});

describe('plain cancel of an actor method', () => {
  test('the call fails at once; the actor is not killed and keeps its state', async () => {
    class Acc {
      n = 0;
      add(k: number) {
        return (this.n += k);
      }
      pid() {
        return process.pid;
      }
      async spin(ms: number) {
        const end = Date.now() + ms;
        while (Date.now() < end) await new Promise((r) => setTimeout(r, 50));
        return 'spun';
      }
    }
    const a = remote(Acc).options({ maxConcurrency: 1 }).remote();
    assert.equal(await get(a.add.remote(5)), 5);
    const pid = await get(a.pid.remote());
    const s = a.spin.remote(1500);
    await until(
      'the call to run',
      async () =>
        (
          await state.listTasks({
            filters: [
              ['taskId', '=', s.id],
              ['state', '=', 'RUNNING'],
            ],
          })
        ).length > 0,
    );
    await cancel(s);
    const ms = await timed(assert.rejects(get(s), TaskCancelledError));
    assert.ok(ms < 1000, `get raised TaskCancelledError before the call returned (${ms} ms)`);
    assert.equal(await get(a.add.remote(1)), 6, 'the actor kept its state');
    assert.equal(await get(a.pid.remote()), pid, 'the actor was not restarted');
  });
});
