/** Actors on real worker processes: calls, state, concurrency, handles. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { init, shutdown, remote, get, put, kill, availableResources, type ActorHandle } from 'orrery-compute';
import { until, Counter } from './helpers.ts';

before(async () => {
  await init({ numCpus: 2, logToDriver: false });
});
after(shutdown);

const CounterActor = remote(Counter);

/** An async actor: ordering under maxConcurrency 1, its context, and calling other actors. */
class Ordered {
  seen: number[] = [];
  async add(i: number, ms: number) {
    await new Promise((r) => setTimeout(r, ms));
    this.seen.push(i);
    return i;
  }
  async all() {
    return this.seen;
  }
  async ctx() {
    const { getRuntimeContext } = await import('orrery-compute');
    const c = getRuntimeContext();
    return { actorId: c.actorId, taskId: c.taskId, nodeId: c.nodeId };
  }
  async poke(h: ActorHandle<Counter>, k: number) {
    const { get } = await import('orrery-compute');
    return await get(h.inc.remote(k));
  }
}

describe('calls and state', () => {
  test('calls from one caller run in submission order and state is kept', async () => {
    class Log {
      items: number[] = [];
      push(i: number) {
        this.items.push(i);
        return this.items.length;
      }
      all() {
        return this.items;
      }
    }
    const log = remote(Log).remote();
    const lens = Array.from({ length: 40 }, (_, i) => log.push.remote(i));
    assert.deepEqual(
      await get(lens),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      await get(log.all.remote()),
      Array.from({ length: 40 }, (_, i) => i),
    );
  });

  test('constructor and method arguments given as refs are resolved', async () => {
    const c = CounterActor.remote(put(10) as unknown as number);
    assert.equal(await get(c.inc.remote(put(5) as unknown as number)), 15);
    assert.equal(await get(c.value.remote()), 15);
  });

  test('an async actor with maxConcurrency 1 runs calls one at a time, in order', async () => {
    const o = remote(Ordered).options({ maxConcurrency: 1 }).remote();
    await get([o.add.remote(0, 120), o.add.remote(1, 60), o.add.remote(2, 0)]);
    assert.deepEqual(await get(o.all.remote()), [0, 1, 2]);
  });

  test('an async actor runs up to maxConcurrency calls at once (default 1000)', async () => {
    class Overlap {
      active = 0;
      peak = 0;
      async work(ms: number) {
        this.active++;
        this.peak = Math.max(this.peak, this.active);
        await new Promise((r) => setTimeout(r, ms));
        this.active--;
        return this.active;
      }
      async maxSeen() {
        return this.peak;
      }
    }
    const limited = remote(Overlap).options({ maxConcurrency: 3 }).remote();
    const unlimited = remote(Overlap).remote();
    await get([
      ...Array.from({ length: 9 }, () => limited.work.remote(150)),
      ...Array.from({ length: 8 }, () => unlimited.work.remote(300)),
    ]);
    assert.equal(await get(limited.maxSeen.remote()), 3);
    assert.equal(await get(unlimited.maxSeen.remote()), 8);
  });

  test('getRuntimeContext inside a method carries the actor id', async () => {
    const o = remote(Ordered).remote();
    const ref = o.ctx.remote();
    const ctx = await get(ref);
    assert.equal(ctx.actorId, o.actorId);
    assert.ok(ctx.nodeId);
    assert.equal(ctx.taskId, ref.id);
  });

  test('a default actor holds no CPU once placed; an explicit numCpus is held for its life', async () => {
    const free = await availableResources();
    const plain = CounterActor.remote();
    await get(plain.value.remote());
    assert.equal((await availableResources()).CPU, free.CPU, 'a default actor holds 0 CPUs');
    const holding = CounterActor.options({ numCpus: 1 }).remote();
    await get(holding.value.remote());
    assert.equal((await availableResources()).CPU, free.CPU! - 1);
    await kill(holding);
    await until('the CPU to be given back', async () => (await availableResources()).CPU === free.CPU);
    await kill(plain);
  });
});

describe('handles as arguments', () => {
  test('a handle passed to a task can be called from it', async () => {
    const c = CounterActor.remote();
    const useIt = remote(async (h: ActorHandle<Counter>, k: number) => {
      const { get } = await import('orrery-compute');
      return await get(h.inc.remote(k));
    });
    assert.equal(await get(useIt.remote(c, 5)), 5);
    assert.equal(await get(c.value.remote()), 5);

    const b = CounterActor.remote(200);
    const sum = remote(async (o: { first: ActorHandle<Counter>; rest: ActorHandle<Counter>[] }) => {
      const { get } = await import('orrery-compute');
      const vals = await get([o.first.value.remote(), ...o.rest.map((h) => h.value.remote())]);
      return vals.reduce((x, y) => x + y, 0);
    });
    assert.equal(
      await get(sum.remote({ first: c, rest: [b] })),
      205,
      'handles nested in objects and arrays stay usable',
    );

    const caller = remote(Ordered).remote();
    assert.equal(await get(caller.poke.remote(c, 2)), 7, 'a handle passed to another actor can be called from it');
    assert.equal(await get(c.value.remote()), 7);
  });
});
