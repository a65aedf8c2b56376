/** Placement groups on a LocalCluster with real node agents and workers. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  init,
  shutdown,
  remote,
  get,
  state,
  availableResources,
  placementGroup,
  removePlacementGroup,
  ActorDiedError,
  PlacementGroupRemovedError,
  type PlacementGroup,
} from 'orrery-compute';
import { LocalCluster } from 'orrery-compute/testing';
import { alive, tempDir, until } from './helpers.ts';

type Node = Awaited<ReturnType<LocalCluster['addNode']>>;

/** The node a task ran on, after `ms`. */
const whereAmI = remote({ name: 'pg-where' }, async (ms: number) => {
  const { getRuntimeContext } = await import('orrery-compute');
  await new Promise((r) => setTimeout(r, ms));
  return getRuntimeContext().nodeId;
});

/** Submits a child with no strategy of its own and returns where parent and child ran. */
const parentOf = remote({ name: 'pg-parent' }, async () => {
  const { remote, get, getRuntimeContext } = await import('orrery-compute');
  const child = remote({ name: 'pg-child' }, async () => (await import('orrery-compute')).getRuntimeContext().nodeId);
  return { parent: getRuntimeContext().nodeId, child: await get(child.remote()) };
});

/** Writes its pid to `file`, then sleeps long enough to be killed. */
const sleeper = remote({ name: 'pg-sleeper', maxRetries: 0 }, async (file: string) => {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, String(process.pid));
  await new Promise((r) => setTimeout(r, 60_000));
  return 'finished';
});

const Probe = remote(
  class Probe {
    async where() {
      return (await import('orrery-compute')).getRuntimeContext().nodeId;
    }
    pid() {
      return process.pid;
    }
  },
);

type Row = {
  placementGroupId: string;
  state: string;
  strategy: string;
  name: string;
  infeasibleReason: string;
  bundles: { bundleIndex: number; resources: Record<string, number>; nodeId: string }[];
};

async function rowOf(pg: PlacementGroup): Promise<Row> {
  const rows = (await state.listPlacementGroups({ filters: [['placementGroupId', '=', pg.id]] })) as unknown as Row[];
  assert.equal(rows.length, 1, `one row for ${pg.id}`);
  return rows[0]!;
}

const inBundle = (pg: PlacementGroup, bundleIndex?: number) => ({
  schedulingStrategy: { placementGroup: pg, bundleIndex },
});

describe('placement groups on two nodes', () => {
  let cluster: LocalCluster;
  let a: Node;
  let b: Node;

  before(async () => {
    cluster = await LocalCluster.start({ log: () => {} });
    a = await cluster.addNode({ numCpus: 2 });
    b = await cluster.addNode({ numCpus: 2, resources: { marker: 1 } });
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  test("a ready group runs tasks and an actor inside its bundles, on the bundles' nodes", async () => {
    const pg = placementGroup([{ CPU: 1 }, { CPU: 1 }], { strategy: 'STRICT_SPREAD', name: 'two-bundles' });
    assert.equal(await get(pg.ready()), undefined);
    const row = await rowOf(pg);
    assert.equal(row.state, 'CREATED');
    assert.equal(row.name, 'two-bundles');
    assert.deepEqual(
      row.bundles.map((x) => x.resources),
      [{ CPU: 1 }, { CPU: 1 }],
    );
    const bundleNodes = row.bundles.map((x) => x.nodeId);
    assert.deepEqual(new Set(bundleNodes), new Set([a.nodeId, b.nodeId]), 'STRICT_SPREAD: one bundle per node');
    assert.equal((await availableResources()).CPU, 2, 'the two reserved CPUs are not free for other work');

    assert.equal(await get(whereAmI.options(inBundle(pg, 0)).remote(0)), bundleNodes[0]);
    assert.equal(await get(whereAmI.options(inBundle(pg, 1)).remote(0)), bundleNodes[1]);
    const actor = Probe.options(inBundle(pg, 1)).remote();
    assert.equal(await get(actor.where.remote()), bundleNodes[1]);
    const anyBundle = await get(Array.from({ length: 4 }, () => whereAmI.options(inBundle(pg)).remote(20)));
    for (const n of anyBundle) assert.ok(bundleNodes.includes(n));

    removePlacementGroup(pg);
    await until('the reservation to be given back', async () => (await availableResources()).CPU === 4);
  });

  test('SPREAD puts bundles on both nodes', async () => {
    const pg = placementGroup([{ CPU: 1 }, { CPU: 1 }], { strategy: 'SPREAD' });
    assert.equal(await pg.wait(10_000), true);
    assert.deepEqual(new Set((await rowOf(pg)).bundles.map((x) => x.nodeId)), new Set([a.nodeId, b.nodeId]));
    removePlacementGroup(pg);
  });

  test('STRICT_PACK that no node can hold is never ready; removing it fails ready()', async () => {
    const pg = placementGroup([{ CPU: 2 }, { CPU: 1 }], { strategy: 'STRICT_PACK' });
    assert.equal(await pg.wait(500), false);
    const row = await rowOf(pg);
    assert.equal(row.state, 'PENDING');
    assert.match(row.infeasibleReason, /one node with CPU 3 for all 2 bundles \(STRICT_PACK/);
    assert.equal((await availableResources()).CPU, 4, 'a pending group reserves nothing');
    removePlacementGroup(pg);
    removePlacementGroup(pg);
    await assert.rejects(
      get(pg.ready()),
      (e: Error) => e instanceof PlacementGroupRemovedError && /placement group .* was removed/.test(e.message),
    );
    assert.equal((await rowOf(pg)).state, 'REMOVED');
  });

  test('captureChildTasks runs the tasks a task submits inside its group', async () => {
    // The bundle takes all of b's CPUs, so the child can only run on b from inside the bundle.
    const pg = placementGroup([{ CPU: 2, marker: 1 }]);
    await get(pg.ready());
    assert.equal((await rowOf(pg)).bundles[0]!.nodeId, b.nodeId);
    const captured = await get(
      parentOf
        .options({ schedulingStrategy: { placementGroup: pg, bundleIndex: 0, captureChildTasks: true } })
        .remote(),
    );
    assert.deepEqual(captured, { parent: b.nodeId, child: b.nodeId });
    const free = await get(parentOf.options({ schedulingStrategy: { placementGroup: pg, bundleIndex: 0 } }).remote());
    assert.deepEqual(
      free,
      { parent: b.nodeId, child: a.nodeId },
      'without capture the child runs outside the group, where CPUs are free',
    );
    removePlacementGroup(pg);
  });

  test('removing a group kills its actor and fails a task running inside it', async () => {
    const pg = placementGroup([{ CPU: 1 }]);
    await get(pg.ready());
    const actor = Probe.options(inBundle(pg, 0)).remote();
    const actorPid = await get(actor.pid.remote());
    const pidFile = join(tempDir('pg'), 'pid');
    const running = sleeper.options(inBundle(pg, 0)).remote(pidFile);
    const taskPid = Number(
      await until('the task to start', () => {
        try {
          return readFileSync(pidFile, 'utf8');
        } catch {
          return '';
        }
      }),
    );
    removePlacementGroup(pg);
    await assert.rejects(get(running), (e: Error) => {
      assert.ok(e instanceof PlacementGroupRemovedError, `${e.name}: ${e.message}`);
      assert.match(e.message, new RegExp(`task pg-sleeper failed: its placement group ${pg.id} was removed`));
      return true;
    });
    await assert.rejects(
      get(actor.pid.remote()),
      (e: Error) => e instanceof ActorDiedError && /placement group .* was removed/.test(e.message),
    );
    await until("the task's worker to be killed", () => !alive(taskPid));
    await until("the actor's worker to be killed", () => !alive(actorPid));
    await assert.rejects(get(whereAmI.options(inBundle(pg, 0)).remote(0)), /placement group .* does not exist/);
  });
});

describe('placement groups and node death', () => {
  let cluster: LocalCluster;
  let a: Node;
  let b: Node;

  before(async () => {
    cluster = await LocalCluster.start({ log: () => {} });
    a = await cluster.addNode({ numCpus: 2 });
    b = await cluster.addNode({ numCpus: 2 });
    await init({ cluster, logToDriver: false });
  });
  after(async () => {
    await shutdown();
    await cluster.shutdown();
  });

  test('a node killed with a bundle sends the group to RESCHEDULING; a new node makes it CREATED again', async () => {
    const pg = placementGroup([{ CPU: 1 }, { CPU: 1 }], { strategy: 'STRICT_SPREAD' });
    await get(pg.ready());
    const before = (await rowOf(pg)).bundles.map((x) => x.nodeId);
    const lost = before.indexOf(b.nodeId);
    assert.ok(lost >= 0);
    await b.kill();
    const rescheduling = await until('the group to be rescheduling', async () => {
      const row = await rowOf(pg);
      return row.state === 'RESCHEDULING' && row;
    });
    assert.equal(rescheduling.bundles[lost]!.nodeId, '');
    assert.equal(rescheduling.bundles[1 - lost]!.nodeId, a.nodeId, 'the bundle on the live node keeps its place');
    const c = await cluster.addNode({ numCpus: 2 });
    const created = await until('the group to be created again', async () => {
      const row = await rowOf(pg);
      return row.state === 'CREATED' && row;
    });
    assert.equal(created.bundles[lost]!.nodeId, c.nodeId);
    assert.equal(await get(whereAmI.options(inBundle(pg, lost)).remote(0)), c.nodeId);
    removePlacementGroup(pg);
  });
});
