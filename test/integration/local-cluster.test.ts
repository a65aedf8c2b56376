/** Multi-node scheduling, node death and the State API on a LocalCluster (`orrery-compute/testing`). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  init,
  shutdown,
  remote,
  get,
  state,
  clusterResources,
  availableResources,
  nodes,
  TaskUnschedulableError,
  ActorDiedError,
} from 'orrery-compute';
import { LocalCluster } from 'orrery-compute/testing';
import { until } from './helpers.ts';

type Node = Awaited<ReturnType<LocalCluster['addNode']>>;

/** Returns the id of the node it ran on, after `ms`. */
const whereAmI = remote({ name: 'where-am-i' }, async (ms: number) => {
  const { getRuntimeContext } = await import('orrery-compute');
  await new Promise((r) => setTimeout(r, ms));
  return getRuntimeContext().nodeId;
});

const unschedulable = (what: RegExp) => (e: Error) => {
  assert.ok(e instanceof TaskUnschedulableError, `${e.name}: ${e.message}`);
  assert.match(e.message, what);
  return true;
};

describe('two labelled nodes', () => {
  let cluster: LocalCluster;
  let a: Node;
  let b: Node;

  before(async () => {
    cluster = await LocalCluster.start({ infeasibleGraceMs: 500, log: () => {} });
    [a, b] = await Promise.all([
      cluster.addNode({ numCpus: 2, labels: { zone: 'a' } }),
      cluster.addNode({ numCpus: 2, labels: { zone: 'b' } }),
    ]);
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  test('SPREAD tasks land on both nodes', async () => {
    const spread = whereAmI.options({ schedulingStrategy: 'SPREAD', name: 'spread-probe' });
    const ids = await get(Array.from({ length: 8 }, () => spread.remote(100)));
    assert.deepEqual(new Set(ids), new Set([a.nodeId, b.nodeId]));
  });

  test('hard node affinity runs only on that node', async () => {
    const pinned = whereAmI.options({ schedulingStrategy: { nodeId: b.nodeId, soft: false } });
    const ids = await get(Array.from({ length: 6 }, () => pinned.remote(50)));
    assert.deepEqual(new Set(ids), new Set([b.nodeId]));
  });

  test('soft affinity to a live node with room runs there', async () => {
    const preferA = whereAmI.options({ schedulingStrategy: { nodeId: a.nodeId, soft: true } });
    assert.equal(await get(preferA.remote(0)), a.nodeId);
  });

  test('labelSelector places tasks and actors by node labels', async () => {
    assert.equal(await get(whereAmI.options({ labelSelector: { zone: 'b' } }).remote(0)), b.nodeId);
    assert.equal(await get(whereAmI.options({ labelSelector: { zone: '!b' } }).remote(0)), a.nodeId);
    assert.equal(await get(whereAmI.options({ labelSelector: { zone: 'in(a,c)' } }).remote(0)), a.nodeId);
    assert.equal(await get(whereAmI.options({ labelSelector: { zone: '!in(a,c)' } }).remote(0)), b.nodeId);
    class Where {
      async node() {
        const { getRuntimeContext } = await import('orrery-compute');
        return getRuntimeContext().nodeId;
      }
    }
    const actor = remote(Where)
      .options({ labelSelector: { zone: 'a' } })
      .remote();
    assert.equal(await get(actor.node.remote()), a.nodeId);
  });

  test('a label no node has is unschedulable after the grace period', async () => {
    await assert.rejects(
      get(whereAmI.options({ labelSelector: { zone: 'mars' } }).remote(0)),
      unschedulable(/zone|label/),
    );
  });

  test('an infeasible request fails with TaskUnschedulableError naming the resource', async () => {
    await assert.rejects(get(whereAmI.options({ numCpus: 64 }).remote(0)), unschedulable(/CPU/));
    await assert.rejects(get(whereAmI.options({ numGpus: 1 }).remote(0)), unschedulable(/GPU/));
  });

  test('hard affinity to an unknown node is unschedulable', async () => {
    const ghost = whereAmI.options({ schedulingStrategy: { nodeId: 'ffffffffffffffff', soft: false } });
    await assert.rejects(get(ghost.remote(0)), TaskUnschedulableError);
  });

  test('affinity to a dead node: soft runs elsewhere, hard is unschedulable', async () => {
    const c = await cluster.addNode({ numCpus: 2, labels: { zone: 'c' } });
    const onC = whereAmI.options({ schedulingStrategy: { nodeId: c.nodeId, soft: false } });
    assert.equal(await get(onC.remote(0)), c.nodeId);
    await c.kill();
    await until(
      'node c to be dead',
      async () => (await state.listNodes({ filters: [['nodeId', '=', c.nodeId]] }))[0]?.state === 'DEAD',
    );
    const soft = whereAmI.options({ schedulingStrategy: { nodeId: c.nodeId, soft: true } });
    const ran = await get(soft.remote(0));
    assert.ok(ran === a.nodeId || ran === b.nodeId, `ran on ${ran}`);
    await assert.rejects(get(onC.remote(0)), TaskUnschedulableError);
  });

  test('killing a node mid-run: its tasks are retried elsewhere and every result arrives; its actors restart if they may', async () => {
    const d = await cluster.addNode({ numCpus: 2, labels: { zone: 'd' } });
    class Where {
      async node() {
        const { getRuntimeContext } = await import('orrery-compute');
        return getRuntimeContext().nodeId;
      }
    }
    const onD = { schedulingStrategy: { nodeId: d.nodeId, soft: true } } as const;
    const restartable = remote(Where)
      .options({ ...onD, maxRestarts: 1 })
      .remote();
    const mortal = remote(Where).options(onD).remote();
    assert.equal(await get(restartable.node.remote()), d.nodeId);
    assert.equal(await get(mortal.node.remote()), d.nodeId);

    const work = whereAmI.options({ schedulingStrategy: 'SPREAD', name: 'node-death-probe' });
    const refs = Array.from({ length: 6 }, () => work.remote(1500));
    await until(
      'a task to run on node d',
      async () =>
        (
          await state.listTasks({
            filters: [
              ['name', '=', 'node-death-probe'],
              ['nodeId', '=', d.nodeId],
              ['state', '=', 'RUNNING'],
            ],
          })
        ).length > 0,
    );
    await d.kill();
    const ids = await get(refs);
    assert.equal(ids.length, 6);
    assert.ok(!ids.includes(d.nodeId), 'no result comes from the dead node');
    const rows = await state.listTasks({ filters: [['name', '=', 'node-death-probe']] });
    assert.equal(rows.length, 6);
    assert.ok(rows.every((r) => r.state === 'FINISHED'));
    assert.ok(
      rows.some((r) => (r.attempt as number) >= 1),
      'the tasks of the dead node were retried',
    );

    const moved = await get(restartable.node.remote());
    assert.ok(moved === a.nodeId || moved === b.nodeId, `the actor restarted on ${moved}`);
    await assert.rejects(get(mortal.node.remote()), ActorDiedError, 'an actor without restarts died with its node');
  });

  test('State API: nodes, task filters, summary and resources', async () => {
    const nodeRows = await state.listNodes();
    const alive = nodeRows.filter((n) => n.state === 'ALIVE').map((n) => n.nodeId);
    assert.deepEqual(new Set(alive), new Set([a.nodeId, b.nodeId]));
    const dead = await state.listNodes({ filters: [['state', '=', 'DEAD']] });
    assert.equal(dead.length, 2, 'every killed node is listed as DEAD');
    assert.ok(dead.every((n) => typeof n.deathReason === 'string' && n.deathReason !== ''));
    assert.equal((await nodes()).length, 4);

    const spread = await state.listTasks({ filters: [['name', '=', 'spread-probe']] });
    assert.equal(spread.length, 8);
    assert.ok(spread.every((r) => r.type === 'NORMAL_TASK' && r.state === 'FINISHED'));
    assert.equal(
      (
        await state.listTasks({
          filters: [
            ['name', '=', 'spread-probe'],
            ['nodeId', '!=', a.nodeId],
          ],
        })
      ).length,
      spread.filter((r) => r.nodeId !== a.nodeId).length,
    );
    assert.equal((await state.listTasks({ limit: 3 })).length, 3);

    const summary = await state.summarizeTasks();
    assert.equal(summary['spread-probe']?.stateCounts.FINISHED, 8);
    assert.equal(summary['node-death-probe']?.stateCounts.FINISHED, 6);
    assert.equal(summary['Where.node']?.type, 'ACTOR_TASK');

    assert.equal((await clusterResources()).CPU, 4, 'only live nodes count');
    await until('every CPU to be free again', async () => (await availableResources()).CPU === 4);
  });
});

describe('a node that fits joins within the grace period', () => {
  let cluster: LocalCluster;

  before(async () => {
    cluster = await LocalCluster.start({ infeasibleGraceMs: 15_000, log: () => {} });
    await cluster.addNode({ numCpus: 1 });
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  test('an infeasible task runs once a node with the resource and label joins', async () => {
    const needsBig = whereAmI.options({ resources: { BIG: 1 }, labelSelector: { tier: 'large' } });
    const ref = needsBig.remote(0);
    class Big {
      where() {
        return 'big actor up';
      }
    }
    const actor = remote(Big)
      .options({ resources: { BIG: 1 }, numCpus: 0 })
      .remote();
    const call = actor.where.remote();
    const joined = await cluster.addNode({ numCpus: 1, resources: { BIG: 2 }, labels: { tier: 'large' } });
    assert.equal(await get(ref), joined.nodeId);
    assert.equal(await get(call), 'big actor up');
  });
});
