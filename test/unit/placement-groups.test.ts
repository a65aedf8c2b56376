/** Placement groups in the pure scheduler: events in, decisions out (no processes). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unitsOf } from '../../orchestrator/core/resources.ts';
import { normalizePlacementGroup } from '../../orchestrator/core/placement-group-options.ts';
import { normalizeTaskOptions } from '../../orchestrator/core/options.ts';
import { placeBundles } from '../../orchestrator/scheduler/bundle-placement.ts';
import { ClusterScheduler } from '../../orchestrator/scheduler/cluster-scheduler.ts';
import type { PlacementStrategyName } from '../../orchestrator/core/scheduling-strategy.ts';
import type { SchedulerDecision, SchedulerEvent } from '../../orchestrator/scheduler/types.ts';

type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;

class Harness {
  readonly s = new ClusterScheduler({ infeasibleGraceMs: 5000 });
  now = 0;
  ev(e: DistributiveOmit<SchedulerEvent, 'now'>): SchedulerDecision[] {
    return this.s.handle({ ...e, now: this.now } as SchedulerEvent);
  }
  node(nodeId: string, total: Record<string, number>): SchedulerDecision[] {
    return this.ev({ type: 'node-added', node: { nodeId, backend: 'local', total: unitsOf(total), labels: {} } });
  }
  group(id: string, strategy: PlacementStrategyName, bundles: Record<string, number>[]): SchedulerDecision[] {
    return this.ev({ type: 'pg-create', group: { placementGroupId: id, strategy, bundles: bundles.map(unitsOf) } });
  }
  remove(id: string): SchedulerDecision[] {
    return this.ev({ type: 'pg-remove', placementGroupId: id });
  }
  /** Queues work inside group `pg` (bundleIndex -1: any bundle). */
  inGroup(
    requestId: string,
    pg: string,
    bundleIndex: number,
    resources: Record<string, number>,
    hold?: Record<string, number>,
  ): SchedulerDecision[] {
    return this.ev({
      type: 'queued',
      request: {
        requestId,
        resources: unitsOf(resources),
        holdResources: hold && unitsOf(hold),
        strategy: { placementGroup: pg, bundleIndex, captureChildTasks: false },
      },
    });
  }
  task(requestId: string, resources: Record<string, number>): SchedulerDecision[] {
    return this.ev({ type: 'queued', request: { requestId, resources: unitsOf(resources), strategy: 'DEFAULT' } });
  }
  release(leaseId: string): SchedulerDecision[] {
    return this.ev({ type: 'released', leaseId });
  }
  cpus(nodeId: string): number | undefined {
    const a = this.s.available(nodeId);
    return a === undefined ? undefined : (a.CPU ?? 0) / 10_000;
  }
}

const ready = (placementGroupId: string, nodeIds: string[]): SchedulerDecision => ({
  type: 'pg-ready',
  placementGroupId,
  nodeIds,
});
const assign = (requestId: string, nodeId: string): SchedulerDecision => ({ type: 'assign', requestId, nodeId });
const kinds = (ds: SchedulerDecision[]): string[] => ds.map((d) => d.type);

describe('placement groups: strategies', () => {
  it('PACK puts every bundle on one node when one has room', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    h.node('n2', { CPU: 4 });
    assert.deepEqual(h.group('g', 'PACK', [{ CPU: 2 }, { CPU: 2 }]), [ready('g', ['n1', 'n1'])]);
    assert.equal(h.cpus('n1'), 0);
    assert.equal(h.cpus('n2'), 4);
  });

  it('PACK spills to a second node when one is not enough', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    h.node('n2', { CPU: 4 });
    assert.deepEqual(h.group('g', 'PACK', [{ CPU: 3 }, { CPU: 1 }, { CPU: 3 }]), [ready('g', ['n1', 'n1', 'n2'])]);
    assert.equal(h.cpus('n1'), 0);
    assert.equal(h.cpus('n2'), 1);
  });

  it('SPREAD uses a node per bundle, and shares nodes when there are fewer nodes than bundles', () => {
    const h = new Harness();
    for (const n of ['n1', 'n2', 'n3']) h.node(n, { CPU: 4 });
    assert.deepEqual(h.group('a', 'SPREAD', [{ CPU: 1 }, { CPU: 1 }, { CPU: 1 }]), [ready('a', ['n1', 'n2', 'n3'])]);
    const d = h.group('b', 'SPREAD', [{ CPU: 1 }, { CPU: 1 }, { CPU: 1 }, { CPU: 1 }]);
    assert.equal(d.length, 1);
    const nodes = d[0]!.type === 'pg-ready' ? d[0]!.nodeIds : [];
    assert.equal(new Set(nodes).size, 3, `four bundles over three nodes use all three: ${nodes}`);
  });

  it('STRICT_PACK needs one node: never ready while none has room for the sum, even when PACK would fit', () => {
    const h = new Harness();
    h.node('n1', { CPU: 2 });
    h.node('n2', { CPU: 2 });
    const d = h.group('g', 'STRICT_PACK', [{ CPU: 2 }, { CPU: 2 }]);
    assert.deepEqual(kinds(d), ['pg-infeasible']);
    assert.match(d[0]!.type === 'pg-infeasible' ? d[0]!.missing : '', /one node with CPU 4 for all 2 bundles/);
    assert.equal(h.cpus('n1'), 2, 'an infeasible group reserves nothing');
    assert.deepEqual(h.ev({ type: 'tick' }), []);
    h.now = 60_000;
    assert.deepEqual(h.ev({ type: 'tick' }), [], 'a group has no grace period: it stays pending');
    assert.deepEqual(h.node('big', { CPU: 8 }), [
      { type: 'pg-feasible', placementGroupId: 'g' },
      ready('g', ['big', 'big']),
    ]);
  });

  it('STRICT_SPREAD puts each bundle on its own node, finding the matching a greedy pass would miss', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    h.node('n2', { CPU: 1 });
    // In order, bundle 0 would take n1 and leave nothing for bundle 1.
    assert.deepEqual(h.group('g', 'STRICT_SPREAD', [{ CPU: 1 }, { CPU: 4 }]), [ready('g', ['n2', 'n1'])]);
  });

  it('STRICT_SPREAD with more bundles than nodes is infeasible until a node joins', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    h.node('n2', { CPU: 4 });
    const d = h.group('g', 'STRICT_SPREAD', [{ CPU: 1 }, { CPU: 1 }, { CPU: 1 }]);
    assert.deepEqual(kinds(d), ['pg-infeasible']);
    assert.match(
      d[0]!.type === 'pg-infeasible' ? d[0]!.missing : '',
      /3 more distinct node\(s\) .*only 2 can hold one$/,
    );
    assert.deepEqual(h.node('n3', { CPU: 1 }), [
      { type: 'pg-feasible', placementGroupId: 'g' },
      ready('g', ['n1', 'n2', 'n3']),
    ]);
  });

  it('a bundle no node could ever hold names the missing resource', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    const d = h.group('g', 'PACK', [{ CPU: 1 }, { GPU: 1 }]);
    assert.deepEqual(d, [{ type: 'pg-infeasible', placementGroupId: 'g', missing: 'GPU for bundle 1' }]);
  });

  it('an elastic shape that fits keeps a group feasible and raises demand for its bundles', () => {
    const h = new Harness();
    h.node('n1', { CPU: 2 });
    h.ev({ type: 'elastic-shapes', backend: 'cloud', shapes: [{ resources: unitsOf({ CPU: 8 }), labels: {} }] });
    assert.deepEqual(h.group('g', 'STRICT_PACK', [{ CPU: 4 }, { CPU: 4 }]), []);
    assert.deepEqual(h.s.pendingDemand(), [
      { backend: undefined, resources: unitsOf({ CPU: 8 }), labelSelector: undefined, count: 1 },
    ]);
    assert.deepEqual(h.node('cloud-1', { CPU: 8 }), [ready('g', ['cloud-1', 'cloud-1'])]);
    assert.deepEqual(h.s.pendingDemand(), []);
  });
});

describe('placement groups: scoped to a backend', () => {
  it("STRICT_SPREAD with a backend uses only that backend's nodes, and says so when they are too few", () => {
    const h = new Harness();
    h.node('local-1', { CPU: 4 });
    h.ev({ type: 'node-added', node: { nodeId: 's1', backend: 'ssh', total: unitsOf({ CPU: 1 }), labels: {} } });
    h.ev({ type: 'node-added', node: { nodeId: 's2', backend: 'ssh', total: unitsOf({ CPU: 1 }), labels: {} } });
    const spec = (id: string, n: number) => ({
      placementGroupId: id,
      strategy: 'STRICT_SPREAD' as const,
      bundles: Array.from({ length: n }, () => unitsOf({ CPU: 1 })),
      backend: 'ssh',
    });
    assert.deepEqual(h.ev({ type: 'pg-create', group: spec('two', 2) }), [ready('two', ['s1', 's2'])]);
    h.remove('two');
    const d = h.ev({ type: 'pg-create', group: spec('three', 3) });
    assert.equal(d.length, 1);
    assert.equal(d[0]!.type, 'pg-infeasible');
    assert.match(
      d[0]!.type === 'pg-infeasible' ? d[0]!.missing : '',
      /3 more distinct node\(s\) .*only 2 can hold one, among the nodes of backend ssh/,
    );
  });
});

describe('placement groups: reservations', () => {
  it('is atomic: nothing is reserved while one bundle does not fit, and it becomes ready when room appears', () => {
    const h = new Harness();
    h.node('n1', { CPU: 2 });
    assert.deepEqual(h.group('g', 'PACK', [{ CPU: 2 }, { CPU: 1 }]), []);
    assert.equal(h.cpus('n1'), 2, 'the bundle that fits is not held back for the group');
    assert.deepEqual(h.task('t', { CPU: 2 }), [assign('t', 'n1')]);
    assert.deepEqual(h.node('n2', { CPU: 1 }), []);
    assert.deepEqual(h.release('t'), [ready('g', ['n1', 'n2'])]);
    assert.equal(h.cpus('n1'), 0);
    assert.equal(h.cpus('n2'), 0);
  });

  it('takes reserved resources from the node, so other work cannot use them', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    h.group('g', 'PACK', [{ CPU: 3 }]);
    assert.equal(h.cpus('n1'), 1);
    assert.deepEqual(h.task('t', { CPU: 2 }), []);
    assert.deepEqual(h.inGroup('in', 'g', 0, { CPU: 2 }), [assign('in', 'n1')]);
  });

  it('places work only inside its bundle, and queues it while the bundle is full', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    h.node('n2', { CPU: 4 });
    h.group('g', 'STRICT_SPREAD', [{ CPU: 1 }, { CPU: 1 }]);
    assert.deepEqual(h.inGroup('a', 'g', 1, { CPU: 1 }), [assign('a', 'n2')]);
    assert.deepEqual(h.inGroup('b', 'g', 1, { CPU: 1 }), [], 'bundle 1 is full, though n2 and bundle 0 have room');
    assert.equal(h.s.queuedCount(), 1);
    assert.deepEqual(h.release('a'), [assign('b', 'n2')]);
    assert.equal(h.cpus('n2'), 3, 'work in a bundle does not touch the node outside its reservation');
  });

  it('bundleIndex -1 uses any bundle with room', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    h.node('n2', { CPU: 4 });
    h.group('g', 'SPREAD', [{ CPU: 1 }, { CPU: 1 }]);
    assert.deepEqual(h.inGroup('a', 'g', -1, { CPU: 1 }), [assign('a', 'n1')]);
    assert.deepEqual(h.inGroup('b', 'g', -1, { CPU: 1 }), [assign('b', 'n2')]);
    assert.deepEqual(h.inGroup('c', 'g', -1, { CPU: 1 }), []);
    assert.deepEqual(h.release('b'), [assign('c', 'n2')]);
  });

  it('an actor that needs 1 CPU to be placed but holds 0 leaves the bundle free for tasks', () => {
    const h = new Harness();
    h.node('n1', { CPU: 2 });
    h.group('g', 'PACK', [{ CPU: 1 }]);
    assert.deepEqual(h.inGroup('actor', 'g', 0, { CPU: 1 }, { CPU: 0 }), [assign('actor', 'n1')]);
    assert.deepEqual(h.inGroup('t', 'g', 0, { CPU: 1 }), [assign('t', 'n1')]);
  });

  it('work blocked in get gives its CPUs back to its bundle', () => {
    const h = new Harness();
    h.node('n1', { CPU: 2 });
    h.group('g', 'PACK', [{ CPU: 1 }]);
    h.inGroup('parent', 'g', 0, { CPU: 1 });
    assert.deepEqual(h.inGroup('child', 'g', 0, { CPU: 1 }), []);
    assert.deepEqual(h.ev({ type: 'blocked', leaseId: 'parent' }), [assign('child', 'n1')]);
    assert.equal(h.cpus('n1'), 1, 'the node outside the bundle is untouched');
  });

  it('fails work that can never run inside its group at once, saying why', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    h.group('g', 'PACK', [{ CPU: 1 }, { CPU: 2 }]);
    const reasonOf = (ds: SchedulerDecision[]): string => {
      assert.equal(ds.length, 1);
      const d = ds[0]!;
      assert.equal(d.type, 'unschedulable');
      return d.type === 'unschedulable' ? d.reason : '';
    };
    assert.match(reasonOf(h.inGroup('big', 'g', 0, { CPU: 2 })), /bundle 0 of placement group g is large enough/);
    assert.match(reasonOf(h.inGroup('huge', 'g', -1, { CPU: 3 })), /no bundle of placement group g/);
    assert.match(reasonOf(h.inGroup('idx', 'g', 2, { CPU: 1 })), /bundleIndex 2 is out of range .* 2 bundle/);
    assert.match(reasonOf(h.inGroup('nog', 'nope', 0, { CPU: 1 })), /placement group nope does not exist/);
  });

  it('a second create with the same id is ignored', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    assert.deepEqual(h.group('g', 'PACK', [{ CPU: 1 }]), [ready('g', ['n1'])]);
    assert.deepEqual(h.group('g', 'PACK', [{ CPU: 1 }]), []);
    assert.equal(h.cpus('n1'), 3);
  });
});

describe('placement groups: node death and removal', () => {
  it('a node dying with a bundle sends the group to rescheduling; it is ready again on a new node', () => {
    const h = new Harness();
    h.node('n1', { CPU: 2 });
    h.node('n2', { CPU: 2 });
    h.group('g', 'STRICT_SPREAD', [{ CPU: 1 }, { CPU: 1 }]);
    assert.deepEqual(h.inGroup('a', 'g', 1, { CPU: 1 }), [assign('a', 'n2')]);
    // STRICT_SPREAD cannot put bundle 1 next to bundle 0 on n1: with no other node it is infeasible for now.
    assert.deepEqual(h.ev({ type: 'node-removed', nodeId: 'n2' }), [
      { type: 'pg-rescheduling', placementGroupId: 'g', bundleIndices: [1] },
      {
        type: 'pg-infeasible',
        placementGroupId: 'g',
        missing:
          '1 more distinct node(s) (STRICT_SPREAD puts each bundle on its own node); only 0 can hold one besides the 1 holding its other bundles',
      },
    ]);
    // The caller re-queues `a`; it waits for its bundle.
    assert.deepEqual(h.inGroup('a2', 'g', 1, { CPU: 1 }), []);
    assert.deepEqual(h.release('a'), [], 'a release for work lost with the node credits nothing');
    assert.deepEqual(h.node('n3', { CPU: 2 }), [
      { type: 'pg-feasible', placementGroupId: 'g' },
      ready('g', ['n1', 'n3']),
      assign('a2', 'n3'),
    ]);
    assert.equal(h.cpus('n1'), 1);
    assert.equal(h.cpus('n3'), 1, 'only the bundle is reserved on the new node');
  });

  it('bundles on surviving nodes keep their reservations while the lost one is rescheduled', () => {
    const h = new Harness();
    h.node('n1', { CPU: 2 });
    h.node('n2', { CPU: 2 });
    h.node('n3', { CPU: 2 });
    h.group('g', 'SPREAD', [{ CPU: 2 }, { CPU: 2 }]);
    assert.deepEqual(h.inGroup('a', 'g', 0, { CPU: 2 }), [assign('a', 'n1')]);
    assert.deepEqual(h.ev({ type: 'node-removed', nodeId: 'n2' }), [
      { type: 'pg-rescheduling', placementGroupId: 'g', bundleIndices: [1] },
      ready('g', ['n1', 'n3']),
    ]);
    assert.deepEqual(h.release('a'), []);
    assert.deepEqual(h.inGroup('b', 'g', 0, { CPU: 2 }), [assign('b', 'n1')], 'bundle 0 kept its capacity');
  });

  it('removing a group frees its reservations, fails queued work and reports what ran inside', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    h.group('g', 'PACK', [{ CPU: 4 }]);
    assert.deepEqual(h.task('outside', { CPU: 1 }), []);
    assert.deepEqual(h.inGroup('in', 'g', 0, { CPU: 4 }), [assign('in', 'n1')]);
    assert.deepEqual(h.inGroup('q', 'g', 0, { CPU: 1 }), []);
    const d = h.remove('g');
    assert.deepEqual(kinds(d), ['unschedulable', 'pg-removed', 'assign']);
    assert.match(
      d[0]!.type === 'unschedulable' ? `${d[0]!.requestId}: ${d[0]!.reason}` : '',
      /^q: its placement group g was removed/,
    );
    assert.deepEqual(d[1], { type: 'pg-removed', placementGroupId: 'g', evicted: ['in'] });
    assert.deepEqual(d[2], assign('outside', 'n1'));
    assert.equal(h.cpus('n1'), 3);
    assert.deepEqual(h.release('in'), []);
    assert.equal(h.cpus('n1'), 3, 'the evicted work gives back nothing twice');
    assert.equal(h.s.queuedCount(), 0);
  });

  it('removing a group twice does nothing, and work for a removed group fails', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    h.group('g', 'PACK', [{ CPU: 2 }]);
    assert.equal(h.remove('g').length, 1);
    assert.deepEqual(h.remove('g'), []);
    assert.equal(h.cpus('n1'), 4);
    assert.deepEqual(kinds(h.inGroup('late', 'g', 0, { CPU: 1 })), ['unschedulable']);
  });

  it('removing a pending group ends it without reserving anything', () => {
    const h = new Harness();
    h.node('n1', { CPU: 1 });
    h.group('g', 'PACK', [{ CPU: 2 }]);
    assert.deepEqual(h.remove('g'), [{ type: 'pg-removed', placementGroupId: 'g', evicted: [] }]);
    assert.deepEqual(h.node('n2', { CPU: 4 }), []);
    assert.equal(h.cpus('n2'), 4);
  });
});

describe('placement groups: placement function and validation', () => {
  const views = (spec: Record<string, number>) =>
    Object.entries(spec).map(([nodeId, cpu]) => ({
      nodeId,
      total: unitsOf({ CPU: cpu }),
      available: unitsOf({ CPU: cpu }),
    }));
  const bundles = (...cpus: number[]) => cpus.map((c, index) => ({ index, resources: unitsOf({ CPU: c }) }));

  it('PACK prefers the nodes the group already uses when re-placing a lost bundle', () => {
    const out = placeBundles('PACK', bundles(0, 1).slice(1), views({ a: 4, b: 4 }), ['b']);
    assert.deepEqual([...(out ?? [])], [[1, 'b']]);
  });

  it('SPREAD avoids the nodes the group already uses', () => {
    const out = placeBundles('SPREAD', bundles(1, 1).slice(1), views({ a: 4, b: 4 }), ['a']);
    assert.deepEqual([...(out ?? [])], [[1, 'b']]);
  });

  it('STRICT_PACK re-places only on the node of the other bundles', () => {
    assert.equal(placeBundles('STRICT_PACK', bundles(1, 1).slice(1), views({ a: 0, b: 4 }), ['a']), undefined);
  });

  it('validates bundles and options, naming the field', () => {
    assert.throws(() => normalizePlacementGroup([], {}), /bundles must be a non-empty array/);
    assert.throws(() => normalizePlacementGroup([{ CPU: 1 }, {}], {}), /bundles\[1\] has no resources/);
    assert.throws(() => normalizePlacementGroup([{ CPU: 1 }, { GPU: 0 }], {}), /bundles\[1\] has no resources/);
    assert.throws(
      () => normalizePlacementGroup([{ CPU: -1 }], {}),
      /bundles\[0\]\.CPU must be a finite number >= 0 \(got -1\)/,
    );
    assert.throws(
      () => normalizePlacementGroup([{ CPU: 1 }], { strategy: 'TIGHT' as never }),
      /option strategy must be one of 'PACK', 'SPREAD', 'STRICT_PACK', 'STRICT_SPREAD' \(got "TIGHT"\)/,
    );
    assert.throws(() => normalizePlacementGroup([{ CPU: 1 }], { lifetime: 'forever' as never }), /option lifetime/);
    assert.throws(() => normalizePlacementGroup([{ CPU: 1 }], { nme: 'x' } as never), /unknown option nme/);
    assert.deepEqual(normalizePlacementGroup([{ CPU: 1, GPU: 0 }], { name: 'n' }), {
      bundles: [{ CPU: 1 }],
      strategy: 'PACK',
      name: 'n',
      detached: false,
      backend: undefined,
    });
    assert.throws(() => normalizePlacementGroup([{ CPU: 1 }], { backend: '' }), /option backend must be the name/);
  });

  it('validates the placement group form of schedulingStrategy', () => {
    const pg = { id: 'abc', bundleSpecs: [{ CPU: 1 }, { CPU: 1 }] };
    assert.deepEqual(normalizeTaskOptions({ schedulingStrategy: { placementGroup: pg } }, 'f').strategy, {
      placementGroup: 'abc',
      bundleIndex: -1,
      captureChildTasks: false,
    });
    assert.deepEqual(
      normalizeTaskOptions(
        { schedulingStrategy: { placementGroup: 'abc', bundleIndex: 5, captureChildTasks: true } },
        'f',
      ).strategy,
      {
        placementGroup: 'abc',
        bundleIndex: 5,
        captureChildTasks: true,
      },
    );
    assert.throws(
      () => normalizeTaskOptions({ schedulingStrategy: { placementGroup: pg, bundleIndex: 2 } }, 'f'),
      /schedulingStrategy\.bundleIndex must be an integer from -1 \(any bundle\) to 1/,
    );
    assert.throws(
      () => normalizeTaskOptions({ schedulingStrategy: { placementGroup: 'abc', bundleIndex: -2 } }, 'f'),
      /bundleIndex must be an integer >= -1/,
    );
    assert.throws(
      () => normalizeTaskOptions({ schedulingStrategy: { placementGroup: 42 as never } }, 'f'),
      /schedulingStrategy\.placementGroup must be a PlacementGroup/,
    );
    assert.throws(
      () => normalizeTaskOptions({ schedulingStrategy: { placementGroup: 'abc', captureChildTasks: 1 as never } }, 'f'),
      /captureChildTasks must be a boolean/,
    );
  });
});
