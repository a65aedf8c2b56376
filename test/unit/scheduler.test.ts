import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unitsOf } from '../../orchestrator/core/resources.ts';
import { ClusterScheduler } from '../../orchestrator/scheduler/cluster-scheduler.ts';
import type {
  SchedulerDecision,
  SchedulerEvent,
  SchedulingRequest,
  SchedulerOptions,
} from '../../orchestrator/scheduler/types.ts';

const GIB = 2 ** 30;
type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;

/** Feeds events at a controllable clock; resources are given in user units. */
class Harness {
  readonly s: ClusterScheduler;
  now = 0;
  constructor(opts: Partial<SchedulerOptions> = {}) {
    this.s = new ClusterScheduler({ infeasibleGraceMs: 5000, ...opts });
  }
  ev(e: DistributiveOmit<SchedulerEvent, 'now'>): SchedulerDecision[] {
    return this.s.handle({ ...e, now: this.now } as SchedulerEvent);
  }
  node(
    nodeId: string,
    total: Record<string, number>,
    opts: { backend?: string; labels?: Record<string, string> } = {},
  ): SchedulerDecision[] {
    return this.ev({
      type: 'node-added',
      node: { nodeId, backend: opts.backend ?? 'local', total: unitsOf(total), labels: opts.labels ?? {} },
    });
  }
  queue(
    requestId: string,
    resources: Record<string, number>,
    extra: Partial<SchedulingRequest> = {},
  ): SchedulerDecision[] {
    return this.ev({
      type: 'queued',
      request: { requestId, resources: unitsOf(resources), strategy: 'DEFAULT', ...extra },
    });
  }
  /** Queues tasks one by one and returns the node each went to ('-' when it waits). */
  placements(ids: string[], resources: Record<string, number>, extra: Partial<SchedulingRequest> = {}): string[] {
    return ids.map((id) => {
      const d = this.queue(id, resources, extra);
      const a = d.find((x) => x.type === 'assign' && x.requestId === id);
      return a?.type === 'assign' ? a.nodeId : '-';
    });
  }
  release(leaseId: string): SchedulerDecision[] {
    return this.ev({ type: 'released', leaseId });
  }
}

const assign = (requestId: string, nodeId: string): SchedulerDecision => ({ type: 'assign', requestId, nodeId });
const ids = (n: number, p = 't'): string[] => Array.from({ length: n }, (_, i) => `${p}${i}`);

describe('ClusterScheduler: policies', () => {
  it('DEFAULT packs the first node to 50%, then the next, then the least utilised', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    h.node('n2', { CPU: 4 });
    assert.deepEqual(h.placements(ids(7), { CPU: 1 }), ['n1', 'n1', 'n2', 'n2', 'n1', 'n2', 'n1']);
    assert.deepEqual(h.s.available('n1'), { CPU: 0 });
  });

  it('DEFAULT returns to the first node once it drops under the threshold', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    h.node('n2', { CPU: 4 });
    h.placements(ids(3), { CPU: 1 });
    h.release('t0');
    assert.deepEqual(h.placements(['x'], { CPU: 1 }), ['n1']);
  });

  it('SPREAD round-robins over the least loaded nodes', () => {
    const h = new Harness();
    for (const n of ['n1', 'n2', 'n3']) h.node(n, { CPU: 4 });
    assert.deepEqual(h.placements(ids(5), { CPU: 1 }, { strategy: 'SPREAD' }), ['n1', 'n2', 'n3', 'n1', 'n2']);
    h.release('t2');
    h.release('t1');
    // n3 is the least loaded; then n2 and n3 tie, and n2 was picked longer ago.
    assert.deepEqual(h.placements(['a', 'b'], { CPU: 1 }, { strategy: 'SPREAD' }), ['n3', 'n2']);
  });

  it('puts four 0.25-GPU tasks on one GPU; the fifth waits for a release', () => {
    const h = new Harness();
    h.node('n1', { CPU: 8, GPU: 1 });
    assert.deepEqual(h.placements(ids(5), { GPU: 0.25 }), ['n1', 'n1', 'n1', 'n1', '-']);
    assert.equal(h.s.queuedCount(), 1);
    assert.deepEqual(h.release('t2'), [assign('t4', 'n1')]);
    assert.deepEqual(h.s.available('n1'), { ...unitsOf({ CPU: 8 }), GPU: 0 });
  });

  it('places custom resources only where they exist', () => {
    const h = new Harness();
    h.node('cpu', { CPU: 8 });
    h.node('qpu', { CPU: 1, QPU: 1 });
    assert.deepEqual(h.placements(['c1', 'c2'], { QPU: 1 }), ['qpu', '-']);
    assert.deepEqual(h.queue('big', { QPU: 2 }), [
      { type: 'infeasible', requestId: 'big', missing: 'QPU 2 (the most any node has is 1)' },
    ]);
  });

  it('accounts memory in bytes', () => {
    const h = new Harness();
    h.node('small', { CPU: 4, memory: 4 * GIB });
    h.node('large', { CPU: 4, memory: 16 * GIB });
    assert.deepEqual(h.placements(['m1', 'm2', 'm3'], { memory: 6 * GIB }), ['large', 'large', '-']);
    assert.deepEqual(h.placements(['s1'], { memory: 3 * GIB }), ['small']);
  });

  it('honours label selectors', () => {
    const h = new Harness();
    h.node('cpu', { CPU: 4 });
    h.node('a100', { CPU: 4, GPU: 1 }, { labels: { accelerator: 'A100' } });
    h.node('h100', { CPU: 4, GPU: 1 }, { labels: { accelerator: 'H100' } });
    assert.deepEqual(h.placements(['a'], { CPU: 1 }, { labelSelector: { accelerator: 'A100' } }), ['a100']);
    assert.deepEqual(h.placements(['b'], { CPU: 1 }, { labelSelector: { accelerator: '!A100' } }), ['cpu']);
    assert.deepEqual(h.placements(['c'], { GPU: 1 }, { labelSelector: { accelerator: '!in(A100)' } }), ['h100']);
    assert.deepEqual(h.placements(['d'], { CPU: 1 }, { labelSelector: { accelerator: 'in(H100,V100)' } }), ['h100']);
    assert.deepEqual(h.queue('e', { CPU: 1 }, { labelSelector: { accelerator: 'V100' } }), [
      { type: 'infeasible', requestId: 'e', missing: 'label accelerator=V100' },
    ]);
  });

  it('rejects a malformed selector without queueing anything', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    assert.throws(() => h.queue('x', { CPU: 1 }, { labelSelector: { accelerator: 'in(A100' } }), /"accelerator"/);
    assert.equal(h.s.queuedCount(), 0);
    assert.deepEqual(h.queue('x', { CPU: 1 }), [assign('x', 'n1')]);
  });

  it('honours the backend constraint', () => {
    const h = new Harness();
    h.node('local', { CPU: 4 });
    h.node('lab', { CPU: 4 }, { backend: 'gpu-lab' });
    assert.deepEqual(h.placements(['a'], { CPU: 1 }, { backend: 'gpu-lab' }), ['lab']);
    assert.deepEqual(h.queue('b', { CPU: 1 }, { backend: 'nowhere' }), [
      { type: 'infeasible', requestId: 'b', missing: 'backend nowhere' },
    ]);
  });

  it('hard affinity runs only on that node; a missing or dead node is infeasible', () => {
    const h = new Harness();
    h.node('n1', { CPU: 2 });
    h.node('n2', { CPU: 2 });
    const to = (nodeId: string): Partial<SchedulingRequest> => ({ strategy: { nodeId, soft: false } });
    assert.deepEqual(h.placements(['a', 'b', 'c'], { CPU: 1 }, to('n2')), ['n2', 'n2', '-']);
    assert.deepEqual(h.queue('x', { CPU: 1 }, to('n9')), [{ type: 'infeasible', requestId: 'x', missing: 'node n9' }]);
    h.now = 100;
    assert.deepEqual(h.ev({ type: 'node-removed', nodeId: 'n2' }), [
      { type: 'infeasible', requestId: 'c', missing: 'node n2' },
    ]);
    h.now = 5000;
    assert.deepEqual(
      h.ev({ type: 'tick' }).map((d) => `${d.type}:${d.requestId}`),
      ['unschedulable:x'],
    );
    h.now = 5100;
    const [d] = h.ev({ type: 'tick' });
    assert.equal(d?.type === 'unschedulable' && d.requestId, 'c');
    assert.match(d?.type === 'unschedulable' ? d.reason : '', /node n2/);
  });

  it('soft affinity prefers the node and falls back to DEFAULT when it is full or gone', () => {
    const h = new Harness();
    h.node('n1', { CPU: 2 });
    h.node('n2', { CPU: 2 });
    const soft = (nodeId: string): Partial<SchedulingRequest> => ({ strategy: { nodeId, soft: true } });
    assert.deepEqual(h.placements(['a', 'b', 'c'], { CPU: 1 }, soft('n2')), ['n2', 'n2', 'n1']);
    assert.deepEqual(h.placements(['d'], { CPU: 1 }, soft('n9')), ['n1']);
    h.ev({ type: 'node-removed', nodeId: 'n2' });
    h.node('n3', { CPU: 2 });
    assert.deepEqual(h.placements(['e'], { CPU: 1 }, soft('n2')), ['n3']);
  });

  it('prefer wins among available nodes; avoid is used only when nothing else has room', () => {
    const h = new Harness();
    h.node('local', { CPU: 2 });
    h.node('lab', { CPU: 2 }, { backend: 'gpu-lab' });
    assert.deepEqual(h.placements(['p1', 'p2', 'p3'], { CPU: 1 }, { prefer: { backend: 'gpu-lab' } }), [
      'lab',
      'lab',
      'local',
    ]);
    const h2 = new Harness();
    h2.node('spot', { CPU: 2 }, { labels: { spot: 'true' } });
    h2.node('od', { CPU: 2 });
    const avoid = { avoid: { labels: { spot: 'true' } } };
    assert.deepEqual(h2.placements(['a1', 'a2', 'a3', 'a4', 'a5'], { CPU: 1 }, avoid), [
      'od',
      'od',
      'spot',
      'spot',
      '-',
    ]);
  });

  it('holds holdResources, not resources (a default actor needs 1 CPU to place, holds 0)', () => {
    const h = new Harness();
    h.node('n1', { CPU: 1 });
    assert.deepEqual(h.placements(ids(3, 'actor'), { CPU: 1 }, { holdResources: {} }), ['n1', 'n1', 'n1']);
    assert.deepEqual(h.s.available('n1'), unitsOf({ CPU: 1 }));
  });
});

describe('ClusterScheduler: lifecycle', () => {
  it('a blocked task gives back its CPU only; unblocking takes it again even if oversubscribed', () => {
    const h = new Harness();
    h.node('n1', { CPU: 3, GPU: 1 });
    h.placements(['a'], { CPU: 1, GPU: 1 });
    h.placements(['b', 'c'], { CPU: 1 });
    assert.deepEqual(h.placements(['d'], { CPU: 1 }), ['-']);
    assert.deepEqual(h.ev({ type: 'blocked', leaseId: 'a' }), [assign('d', 'n1')]);
    assert.deepEqual(h.s.available('n1'), { CPU: 0, GPU: 0 });
    assert.deepEqual(h.ev({ type: 'unblocked', leaseId: 'a' }), []);
    assert.deepEqual(h.s.available('n1'), { CPU: -unitsOf({ CPU: 1 }).CPU!, GPU: 0 });
    h.ev({ type: 'blocked', leaseId: 'a' });
    h.release('a');
    assert.deepEqual(h.s.available('n1'), { CPU: 0, GPU: unitsOf({ GPU: 1 }).GPU });
  });

  it('infeasible requests fail after the grace period', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    assert.deepEqual(h.queue('g', { GPU: 1 }), [{ type: 'infeasible', requestId: 'g', missing: 'GPU' }]);
    h.now = 4999;
    assert.deepEqual(h.ev({ type: 'tick' }), []);
    h.now = 5000;
    const d = h.ev({ type: 'tick' });
    assert.equal(d.length, 1);
    assert.equal(d[0]?.type, 'unschedulable');
    assert.match(d[0]?.type === 'unschedulable' ? d[0].reason : '', /GPU/);
    assert.equal(h.s.queuedCount(), 0);
    assert.deepEqual(h.ev({ type: 'tick' }), []);
  });

  it('an infeasible request becomes feasible when a fitting node joins in time', () => {
    const h = new Harness();
    h.node('n1', { CPU: 4 });
    h.queue('g', { GPU: 1 });
    h.now = 1000;
    assert.deepEqual(h.node('gpu', { CPU: 4, GPU: 1 }), [{ type: 'feasible', requestId: 'g' }, assign('g', 'gpu')]);
    h.now = 10_000;
    assert.deepEqual(h.ev({ type: 'tick' }), []);
  });

  it('elastic shapes make a request feasible; it waits as pending demand until a node joins', () => {
    const h = new Harness();
    h.node('laptop', { CPU: 8 });
    h.ev({
      type: 'elastic-shapes',
      backend: 'slurm',
      shapes: [{ resources: unitsOf({ CPU: 32, GPU: 4 }), labels: { partition: 'gpu' } }],
    });
    assert.deepEqual(h.queue('g1', { GPU: 2 }), []);
    assert.deepEqual(h.queue('g2', { GPU: 2 }), []);
    assert.deepEqual(h.queue('big', { GPU: 8 }), [
      { type: 'infeasible', requestId: 'big', missing: 'GPU 8 (the most any node has is 4)' },
    ]);
    assert.deepEqual(h.s.pendingDemand(), [
      { backend: undefined, resources: unitsOf({ GPU: 2 }), labelSelector: undefined, count: 2 },
    ]);
    h.now = 60_000;
    assert.deepEqual(
      h.ev({ type: 'tick' }).map((d) => `${d.type}:${d.requestId}`),
      ['unschedulable:big'],
    );
    assert.deepEqual(h.node('slurm-1', { CPU: 32, GPU: 4 }, { backend: 'slurm' }), [
      assign('g1', 'slurm-1'),
      assign('g2', 'slurm-1'),
    ]);
    assert.deepEqual(h.s.pendingDemand(), []);
  });

  it('withdrawn shapes make waiting requests infeasible', () => {
    const h = new Harness();
    h.ev({ type: 'elastic-shapes', backend: 'sm', shapes: [{ resources: unitsOf({ GPU: 1 }), labels: {} }] });
    h.queue('g', { GPU: 1 }, { backend: 'sm' });
    assert.deepEqual(h.ev({ type: 'elastic-shapes', backend: 'sm', shapes: [] }), [
      { type: 'infeasible', requestId: 'g', missing: 'backend sm' },
    ]);
  });

  it('pendingDemand aggregates per backend, shape and selector, leaving out infeasible and pinned work', () => {
    const h = new Harness();
    h.node('n1', { CPU: 1, GPU: 1 });
    h.placements(['busy'], { CPU: 1 });
    h.placements(['a', 'b'], { CPU: 1 });
    h.placements(['c'], { CPU: 1 }, { strategy: 'SPREAD' });
    h.placements(['d'], { CPU: 1 }, { labelSelector: { zone: '!b' } });
    h.placements(['e'], { CPU: 1 }, { strategy: { nodeId: 'n1', soft: false } });
    h.placements(['f'], { CPU: 2 });
    assert.deepEqual(h.s.pendingDemand(), [
      { backend: undefined, resources: unitsOf({ CPU: 1 }), labelSelector: undefined, count: 3 },
      { backend: undefined, resources: unitsOf({ CPU: 1 }), labelSelector: { zone: '!b' }, count: 1 },
    ]);
  });

  it('a class whose head does not fit is skipped; other classes still place, oldest first', () => {
    const h = new Harness();
    h.node('n1', { CPU: 2 });
    h.placements(['x'], { CPU: 2 });
    h.placements(['y1'], { CPU: 1 });
    h.placements(['z1'], { CPU: 2 });
    h.placements(['y2'], { CPU: 1 });
    h.placements(['z2'], { CPU: 2 });
    assert.deepEqual(h.release('x'), [assign('y1', 'n1'), assign('y2', 'n1')]);
    assert.equal(h.s.queuedCount(), 2);
    h.release('y1');
    assert.deepEqual(h.release('y2'), [assign('z1', 'n1')]);
  });

  it('dequeued requests are withdrawn; duplicate and unknown events are ignored', () => {
    const h = new Harness();
    h.node('n1', { CPU: 1 });
    h.placements(['a', 'b', 'c'], { CPU: 1 });
    assert.deepEqual(h.queue('a', { CPU: 1 }), []);
    assert.deepEqual(h.ev({ type: 'dequeued', requestId: 'b' }), []);
    assert.deepEqual(h.release('a'), [assign('c', 'n1')]);
    assert.deepEqual(h.release('a'), []);
    assert.deepEqual(h.ev({ type: 'blocked', leaseId: 'nope' }), []);
    assert.equal(h.s.queuedCount(), 0);
  });

  it('node-removed forgets work placed there so it can be re-queued elsewhere', () => {
    const h = new Harness();
    h.node('n1', { CPU: 1 });
    h.node('n2', { CPU: 1 });
    h.placements(['a', 'b'], { CPU: 1 });
    assert.deepEqual(h.ev({ type: 'node-removed', nodeId: 'n1' }), []);
    assert.equal(h.s.available('n1'), undefined);
    assert.deepEqual(h.release('a'), []);
    assert.deepEqual(h.queue('a', { CPU: 1 }), []);
    assert.deepEqual(h.release('b'), [assign('a', 'n2')]);
  });

  it('rejects out-of-range options', () => {
    assert.throws(() => new ClusterScheduler({ infeasibleGraceMs: -1 }), /infeasibleGraceMs/);
    assert.throws(() => new ClusterScheduler({ infeasibleGraceMs: 0, spreadThreshold: 2 }), /spreadThreshold/);
  });
});
