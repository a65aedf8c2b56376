/**
 * Named actors, namespaces and lifetimes across drivers, on a LocalCluster
 * so that one driver can shut down and another attach to the same head.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { init, shutdown, remote, get, getActor, kill, state, ActorDiedError } from 'orrery-compute';
import { LocalCluster } from 'orrery-compute/testing';
import { join } from 'node:path';
import { alive, checkDuplicateActorName, linesOf, tempDir, until, Counter } from './helpers.ts';

const CounterActor = remote(Counter);

let cluster: LocalCluster;

before(async () => {
  cluster = await LocalCluster.start();
  await cluster.addNode({ numCpus: 2 });
});
after(async () => {
  await shutdown();
  await cluster.shutdown();
});

describe('names within one driver', () => {
  before(() => init({ cluster, logToDriver: false }));
  after(shutdown);

  test('a named actor is found with getActor and shares its state', async () => {
    const c = CounterActor.options({ name: 'counter-a' }).remote();
    await get(c.inc.remote(3));
    const again = await getActor<Counter>('counter-a');
    assert.equal(again.actorId, c.actorId);
    assert.equal(await get(again.inc.remote(1)), 4);
    await assert.rejects(getActor('no-such-actor'), /no-such-actor/);
  });

  test('getIfExists gives a handle to the live actor of that name', async () => {
    const a = CounterActor.options({ name: 'shared-counter', getIfExists: true }).remote();
    assert.equal(await get(a.inc.remote(1)), 1);
    const b = CounterActor.options({ name: 'shared-counter', getIfExists: true }).remote(100);
    assert.equal(await get(b.inc.remote(1)), 2, 'the existing actor answers; the constructor does not run again');
    assert.equal(await get(a.value.remote()), 2);
    const viaTask = remote(async (h: { value: { remote(): unknown } }) => {
      const { get, ObjectRef } = await import('orrery-compute');
      return await get(h.value.remote() as InstanceType<typeof ObjectRef<number>>);
    });
    assert.equal(await get(viaTask.remote(b)), 2, 'the getIfExists handle works when passed to a task');
    await kill(b);
    await assert.rejects(
      get(a.value.remote()),
      ActorDiedError,
      'killing through the getIfExists handle kills the actor',
    );
  });

  test("a duplicate name fails the second creation for its caller, from the driver and from a task alike; a killed actor's name is free again", async () => {
    await checkDuplicateActorName('dup');
    const second = CounterActor.options({ name: 'dup' }).remote(7);
    assert.equal(await get(second.value.remote()), 7);
    assert.equal((await getActor('dup')).actorId, second.actorId);
  });

  test('an actor in another namespace needs { namespace }; one name may live in two namespaces', async () => {
    const x1 = CounterActor.options({ name: 'x', namespace: 'ns1' }).remote(1);
    const x2 = CounterActor.options({ name: 'x', namespace: 'ns2' }).remote(2);
    assert.equal(await get(x1.value.remote()), 1);
    assert.equal(await get(x2.value.remote()), 2);
    await assert.rejects(getActor('x'), /x/);
    assert.equal((await getActor('x', { namespace: 'ns1' })).actorId, x1.actorId);
    assert.equal((await getActor('x', { namespace: 'ns2' })).actorId, x2.actorId);
    await kill(x1);
    await kill(x2);
  });
});

describe('lifetimes across drivers', () => {
  test('a non-detached named actor dies with its driver; a detached one lives until kill', async () => {
    await init({ cluster, namespace: 'team', logToDriver: false });
    const ephemeral = CounterActor.options({ name: 'ephemeral' }).remote(1);
    const durable = CounterActor.options({ name: 'durable', lifetime: 'detached' }).remote(5);
    const ephemeralPid = await get(ephemeral.pid.remote());
    assert.equal(await get(durable.inc.remote()), 6);
    await shutdown();

    await until("the non-detached actor's process to exit", () => !alive(ephemeralPid));
    await init({ cluster, namespace: 'team', logToDriver: false });
    await assert.rejects(getActor('ephemeral'), /ephemeral/);
    const [row] = await state.listActors({ filters: [['name', '=', 'ephemeral']] });
    assert.equal(row?.state, 'DEAD');
    const again = await getActor<Counter>('durable');
    assert.equal(await get(again.inc.remote()), 7, 'the detached actor kept its state');
    await kill(again);
    await assert.rejects(get(again.inc.remote()), ActorDiedError);
    await assert.rejects(getActor('durable'), /durable/);
    await shutdown();
  });

  test("without a namespace in init, a driver's names are private to it", async () => {
    await init({ cluster, logToDriver: false });
    const hidden = CounterActor.options({ name: 'hidden', lifetime: 'detached' }).remote(3);
    assert.equal(await get(hidden.value.remote()), 3);
    await shutdown();

    await init({ cluster, logToDriver: false });
    await assert.rejects(getActor('hidden'), /hidden/);
    const mine = CounterActor.options({ name: 'hidden' }).remote(9);
    assert.equal(await get(mine.value.remote()), 9, "the same name is free in this driver's namespace");
    await shutdown();

    await init({ cluster, namespace: 'team', logToDriver: false });
    await assert.rejects(getActor('hidden'), /hidden/);
    await shutdown();
    await init({ cluster, logToDriver: false });
    await kill(hidden);
    await shutdown();
  });

  test("a driver's running and pending tasks are cancelled when it shuts down", async () => {
    const file = join(tempDir('actor-names'), 'long-task');
    await init({ cluster, logToDriver: false });
    const long = remote({ numCpus: 2, name: 'long' }, async (f: string) => {
      const fs = await import('node:fs');
      fs.appendFileSync(f, `${process.pid}\n`);
      await new Promise((r) => setTimeout(r, 30_000));
    });
    const running = long.remote(file);
    const pending = long.remote(file);
    const [pid] = await until('the task to start', () => linesOf(file).length > 0 && linesOf(file));
    await shutdown();

    await until("the task's worker to exit", () => !alive(Number(pid)));
    await init({ cluster, logToDriver: false });
    const rows = await state.listTasks({ filters: [['name', '=', 'long']] });
    const byId = new Map(rows.map((r) => [r.taskId, r]));
    assert.equal(byId.get(running.id)?.errorType, 'TaskCancelledError');
    assert.equal(byId.get(pending.id)?.errorType, 'TaskCancelledError');
    assert.equal(linesOf(file).length, 1, 'the pending task never ran');
    await shutdown();
  });
});
