/** PlacementGroupManager with the lease dispatcher on fake nodes: bundles, ready(), removal. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ControlHarness } from './fakes/control-harness.ts';

let h: ControlHarness;
const harness = (): ControlHarness => {
  h = new ControlHarness();
  h.node('n1', { CPU: 2 });
  h.node('n2', { CPU: 2 });
  return h;
};
afterEach(() => h?.close());

const group = (id: string) => [...h.placementGroups.rows()].find((r) => r.placementGroupId === id)!;
const inBundle = (pg: string, bundleIndex: number) => ({ schedulingStrategy: { placementGroup: pg, bundleIndex } });

describe('control: placement groups', () => {
  it("a group is placed on its bundles' nodes and each task goes to its bundle", () => {
    harness();
    const pg = h.placementGroup([{ CPU: 1 }, { CPU: 1 }], 'STRICT_SPREAD');
    const g = group(pg);
    assert.equal(g.state, 'CREATED');
    const nodes = g.bundles.map((b) => b.nodeId);
    assert.deepEqual(new Set(nodes), new Set(['n1', 'n2']));
    const t0 = h.submit('t0', inBundle(pg, 0));
    const t1 = h.submit('t1', inBundle(pg, 1));
    assert.equal(h.lastRun(t0)!.nodeId, nodes[0]);
    assert.equal(h.lastRun(t1)!.nodeId, nodes[1]);
    assert.equal(h.createdAt(pg), h.clock.now(), 'timestamps come from the clock port');
  });

  it('a task waits while its bundle is busy, though the node has free CPUs', () => {
    harness();
    const pg = h.placementGroup([{ CPU: 1 }]);
    const a = h.submit('a', inBundle(pg, 0));
    const b = h.submit('b', inBundle(pg, 0));
    assert.equal(h.runCount(b), 0);
    h.finish(a);
    assert.equal(h.runCount(b), 1);
  });

  it('removal fails queued tasks without running them and kills running ones; all fail with PlacementGroupRemovedError', () => {
    harness();
    const pg = h.placementGroup([{ CPU: 1 }]);
    const running = h.submit('running', { ...inBundle(pg, 0), maxRetries: 3 });
    const queued = h.submit('queued', inBundle(pg, 0));
    assert.equal(h.runCount(running), 1);
    h.removePlacementGroup(pg);
    assert.equal(h.errorOf(queued), 'PlacementGroupRemovedError');
    assert.equal(h.errorOf(running), 'PlacementGroupRemovedError');
    assert.deepEqual(h.cancels, [{ taskId: running, force: true }], "the running task's worker is killed");
    h.deliverKills();
    h.clock.advance(100);
    assert.equal(h.runCount(queued), 0, "the queued task never runs, even once the worker's slot frees");
    assert.equal(h.runCount(running), 1, 'nor is the killed one retried');
    assert.equal(group(pg).state, 'REMOVED');
    assert.equal(h.freeCpus('n1') + h.freeCpus('n2'), 4, "the bundle's CPUs went back");
  });

  it('removal kills a worker still running a task whose plain cancel already failed it', () => {
    harness();
    const pg = h.placementGroup([{ CPU: 1 }]);
    const t = h.submit('t', inBundle(pg, 0));
    h.tasks.cancel(t, false, true);
    h.removePlacementGroup(pg);
    assert.deepEqual(h.cancels.at(-1), { taskId: t, force: true });
    assert.equal(h.errorOf(t), 'TaskCancelledError', 'the ref keeps its first error');
  });

  it('removal kills actors in the group: their calls fail with ActorDiedError', () => {
    harness();
    const pg = h.placementGroup([{ CPU: 1 }]);
    const { actorId, createId } = h.createActor('A', {
      numCpus: 1,
      schedulingStrategy: { placementGroup: pg, bundleIndex: 0 },
    });
    h.finish(createId);
    const c = h.call(actorId, 'm');
    h.removePlacementGroup(pg);
    assert.deepEqual(h.actorKills, [actorId]);
    assert.equal(h.errorOf(c), 'ActorDiedError');
  });

  it('a group that cannot be placed stays pending; its ready() fails on removal', () => {
    harness();
    const pg = h.placementGroup([{ CPU: 8 }]);
    assert.equal(group(pg).state, 'PENDING');
    const t = h.submit('t', inBundle(pg, 0));
    assert.equal(h.runCount(t), 0);
    h.removePlacementGroup(pg);
    assert.equal(h.errorOf(t), 'PlacementGroupRemovedError');
  });
});
