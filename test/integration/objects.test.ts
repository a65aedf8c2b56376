/** Objects: put/get/wait/cancel against real workers. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  init,
  shutdown,
  remote,
  get,
  put,
  wait,
  cancel,
  state,
  ObjectRef,
  GetTimeoutError,
  TaskCancelledError,
  TaskError,
} from 'orrery-compute';
import { alive, linesOf, sleep, tempDir, until } from './helpers.ts';

const dir = tempDir('objects');

before(async () => {
  await init({ numCpus: 2, logToDriver: false });
});
after(shutdown);

/** Sleeps `ms` then returns `v`. */
const sleepy = remote(async (ms: number, v: unknown) => {
  await new Promise((r) => setTimeout(r, ms));
  return v;
});

/** Appends a line to `file` on every attempt, then sleeps `ms` (long: it is cancelled). */
const marked = remote(async (file: string, ms: number) => {
  const fs = await import('node:fs');
  fs.appendFileSync(file, `${process.pid}\n`);
  await new Promise((r) => setTimeout(r, ms));
  return 'finished';
});

describe('put and get', () => {
  test('put is synchronous and get returns the value', async () => {
    const ref = put({ a: [1, 2, 3], s: 'x' });
    assert.ok(ref instanceof ObjectRef);
    assert.match(ref.id, /^[0-9a-f]+$/);
    assert.equal(ref.id, ref.id);
    assert.deepEqual(await get(ref), { a: [1, 2, 3], s: 'x' });
  });

  test('an ObjectRef is not thenable', async () => {
    const ref = put(1);
    assert.equal((ref as unknown as { then?: unknown }).then, undefined);
    const viaAsync = await (async () => ref)();
    assert.equal(viaAsync, ref, 'awaiting a ref gives the ref itself');
  });

  test('get of a list keeps input order even when later refs finish first', async () => {
    const refs = [300, 200, 100, 0].map((ms, i) => sleepy.remote(ms, i));
    assert.deepEqual(await get(refs), [0, 1, 2, 3]);
    assert.deepEqual(await get([put('a'), sleepy.remote(50, 'b'), put('c')]), ['a', 'b', 'c']);
  });

  test('get with a timeout throws GetTimeoutError', async () => {
    const slow = sleepy.remote(1500, 'late');
    await assert.rejects(get(slow, { timeoutMs: 50 }), (e: Error) => {
      assert.ok(e instanceof GetTimeoutError, `${e.name}: ${e.message}`);
      assert.equal(e.name, 'GetTimeoutError');
      return true;
    });
    await assert.rejects(get([put(1), slow], { timeoutMs: 0 }), GetTimeoutError);
    assert.equal(await get(slow), 'late', 'the object is still delivered later');
  });
});

describe('wait', () => {
  test('returns ready refs up to numReturns, both lists in input order', async () => {
    const slow = sleepy.remote(1500, 'slow');
    const a = put('a');
    const b = put('b');
    const first = await wait([slow, a, b]);
    assert.equal(first.ready.length, 1, 'numReturns defaults to 1');
    assert.equal(first.ready[0], a);
    assert.deepEqual(first.notReady, [slow, b]);
    const two = await wait([slow, b, a], { numReturns: 2 });
    assert.deepEqual(two.ready, [b, a]);
    assert.deepEqual(two.notReady, [slow]);
    await cancel(slow, { force: true });
  });

  test('ready keeps input order, not completion order', async () => {
    const refs = [200, 100, 0].map((ms, i) => sleepy.remote(ms, i));
    const { ready, notReady } = await wait(refs, { numReturns: 3 });
    assert.deepEqual(ready, refs);
    assert.deepEqual(notReady, []);
  });

  test('timeout returns what is ready so far', async () => {
    const slow = sleepy.remote(2000, 'slow');
    const r = await wait([slow], { timeoutMs: 50 });
    assert.deepEqual(r, { ready: [], notReady: [slow] });
    const mixed = await wait([slow, put(1)], { numReturns: 2, timeoutMs: 50 });
    assert.equal(mixed.ready.length, 1);
    assert.deepEqual(mixed.notReady, [slow]);
    await cancel(slow, { force: true });
  });

  test("a failed task's ref counts as ready", async () => {
    const boom = remote(() => {
      throw new Error('boom');
    });
    const failed = boom.remote();
    const { ready, notReady } = await wait([failed]);
    assert.deepEqual(ready, [failed]);
    assert.deepEqual(notReady, []);
    await assert.rejects(get(failed), TaskError);
  });

  test('wait([]) gives two empty lists', async () => {
    assert.deepEqual(await wait([]), { ready: [], notReady: [] });
    assert.deepEqual(await wait([], { numReturns: 0 }), { ready: [], notReady: [] });
  });

  test('duplicate refs are an error', async () => {
    const r = put(1);
    await assert.rejects(wait([r, r]), /duplicate/);
  });

  test('numReturns larger than the list is an error', async () => {
    await assert.rejects(wait([put(1)], { numReturns: 2 }), /numReturns/);
  });
});

describe('cancel', () => {
  test('a task pending on its arguments never runs and fails with TaskCancelledError, and so do its dependents', async () => {
    const file = join(dir, 'pending-args');
    const gate = sleepy.remote(400, 1000);
    const victim = marked.remote(file, gate as unknown as number);
    const dependent = sleepy.remote(0, victim);
    await cancel(victim);
    await assert.rejects(get(victim), TaskCancelledError);
    await assert.rejects(get(dependent), TaskCancelledError);
    assert.equal(await get(gate), 1000);
    await sleep(300);
    assert.deepEqual(linesOf(file), [], 'the cancelled task never ran');
  });

  test('a task queued for resources never runs once cancelled', async () => {
    const file = join(dir, 'pending-node');
    const hog = sleepy.options({ numCpus: 2 });
    const blocker = hog.remote(500, 'blocker');
    const victim = marked.options({ numCpus: 2 }).remote(file, 0);
    const dependent = sleepy.remote(0, victim);
    await cancel(victim);
    await assert.rejects(get(victim), TaskCancelledError);
    await assert.rejects(get(dependent), TaskCancelledError);
    assert.equal(await get(blocker), 'blocker');
    await sleep(300);
    assert.deepEqual(linesOf(file), [], 'the cancelled task never ran');
    const [row] = await state.listTasks({ filters: [['taskId', '=', victim.id]] });
    assert.equal(row?.errorType, 'TaskCancelledError');
  });

  test('force-cancelling a running task kills its worker; it is not retried', async () => {
    const file = join(dir, 'running-force');
    const victim = marked.options({ maxRetries: 3 }).remote(file, 30_000);
    const dependent = sleepy.remote(0, victim);
    const [pid] = await until('the task to start', () => linesOf(file).length > 0 && linesOf(file));
    await cancel(victim, { force: true });
    await assert.rejects(get(victim), TaskCancelledError);
    await assert.rejects(get(dependent), TaskCancelledError);
    await until('the worker to die', () => !alive(Number(pid)));
    await sleep(500);
    assert.equal(linesOf(file).length, 1, 'a cancelled task is not retried');
    const [row] = await state.listTasks({ filters: [['taskId', '=', victim.id]] });
    assert.equal(row?.state, 'FAILED');
    assert.equal(row?.attempt, 0);
  });

  test('force-cancelling a task does not kill other tasks that share its worker', async () => {
    // Short synchronous tasks make the head pipeline several tasks onto one worker.
    const quick = remote({ maxRetries: 0, name: 'shared-worker' }, (ms: number, v: number) => {
      if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      return v;
    });
    await get(Array.from({ length: 200 }, (_, i) => quick.remote(0, i)));
    const keep: ObjectRef<number>[] = [];
    const victims: ObjectRef<number>[] = [];
    for (let i = 0; i < 4; i++) {
      keep.push(quick.remote(400, i));
      victims.push(quick.remote(0, 10 + i), quick.remote(0, 20 + i));
    }
    for (const v of victims) await cancel(v, { force: true });
    for (const v of victims) await assert.rejects(get(v), TaskCancelledError);
    assert.deepEqual(await get(keep), [0, 1, 2, 3], 'tasks that were not cancelled are not killed');
  });

  test('cancelling a running task blocked in get interrupts it', async () => {
    const waiter = remote(async (r: ObjectRef<unknown>[]) => {
      const { get } = await import('orrery-compute');
      return await get(r[0]!);
    });
    const never = sleepy.remote(30_000, 'never');
    const victim = waiter.remote([never]);
    await until(
      'the waiter to run',
      async () =>
        (
          await state.listTasks({
            filters: [
              ['taskId', '=', victim.id],
              ['state', '=', 'RUNNING'],
            ],
          })
        ).length > 0,
    );
    await cancel(victim);
    await assert.rejects(get(victim), TaskCancelledError);
    await cancel(never, { force: true });
    await assert.rejects(get(never), TaskCancelledError);
  });

  test('recursive cancel cancels the tasks a cancelled task submitted', async () => {
    const file = join(dir, 'child');
    const parent = remote(async (f: string) => {
      const { remote, get } = await import('orrery-compute');
      const child = remote(async (g: string) => {
        const fs = await import('node:fs');
        fs.appendFileSync(g, `${process.pid}\n`);
        await new Promise((r) => setTimeout(r, 30_000));
        return 'child finished';
      });
      return await get(child.remote(f));
    });
    const p = parent.remote(file);
    await until('the child to start', () => linesOf(file).length > 0 && linesOf(file));
    const [child] = await state.listTasks({ filters: [['parentTaskId', '=', p.id]] });
    assert.ok(child, 'the child is listed with its parent');
    await cancel(p, { force: true });
    await assert.rejects(get(p), TaskCancelledError);
    await assert.rejects(get(new ObjectRef(child.taskId as string)), TaskCancelledError);
    await sleep(300);
    assert.equal(linesOf(file).length, 1, 'the cancelled child is not retried');
  });

  test('cancel with recursive: false leaves the children running', async () => {
    const file = join(dir, 'child-nonrecursive');
    const parent = remote(async (f: string) => {
      const { remote, get } = await import('orrery-compute');
      const child = remote(async (g: string) => {
        const fs = await import('node:fs');
        fs.appendFileSync(g, `${process.pid}\n`);
        await new Promise((r) => setTimeout(r, 300));
        return 'child finished';
      });
      return await get(child.remote(f));
    });
    const p = parent.remote(file);
    await until('the child to start', () => linesOf(file).length > 0 && linesOf(file));
    const [child] = await state.listTasks({ filters: [['parentTaskId', '=', p.id]] });
    await cancel(p, { recursive: false });
    await assert.rejects(get(p), TaskCancelledError);
    assert.equal(await get(new ObjectRef<string>(child!.taskId as string)), 'child finished');
  });

  test('cancelling a finished task changes nothing', async () => {
    const r = sleepy.remote(0, 'done');
    assert.equal(await get(r), 'done');
    await cancel(r);
    assert.equal(await get(r), 'done');
  });
});
