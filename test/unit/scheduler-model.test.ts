/**
 * Checks the optimised ClusterScheduler (lazy heaps, stalled classes, cached candidates)
 * against a naive model that rescans every node and every class on every event, over long
 * random event sequences. Any divergence prints the seed and the event index.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fits, unitsOf, type ResourceSet } from '../../orchestrator/core/resources.ts';
import { ClusterScheduler } from '../../orchestrator/scheduler/cluster-scheduler.ts';
import { matchesLabels } from '../../orchestrator/core/label-selector.ts';
import type {
  ElasticShape,
  PlacementTarget,
  SchedulerDecision,
  SchedulerEvent,
  SchedulerNode,
  SchedulingRequest,
} from '../../orchestrator/scheduler/types.ts';

const GRACE = 50;
const THRESHOLD = 0.5;

interface ModelNode {
  node: SchedulerNode;
  seq: number;
  avail: Record<string, number>;
  lastPicked: number;
}
interface ModelTask {
  req: SchedulingRequest;
  key: string;
  seq: number;
  since: number | undefined;
  node?: ModelNode;
  blocked: boolean;
}

/** The policies of the brief, written the slow and obvious way. */
class NaiveScheduler {
  nodes: ModelNode[] = [];
  shapes = new Map<string, readonly ElasticShape[]>();
  queue: ModelTask[] = [];
  running = new Map<string, ModelTask>();
  classFeasible = new Map<string, boolean>();
  seq = 0;
  picks = 0;
  nodeSeq = 0;

  handle(e: SchedulerEvent): SchedulerDecision[] {
    const out: SchedulerDecision[] = [];
    switch (e.type) {
      case 'node-added':
        if (!this.nodes.some((n) => n.node.nodeId === e.node.nodeId)) {
          this.nodes.push({ node: e.node, seq: this.nodeSeq++, avail: { ...e.node.total }, lastPicked: 0 });
        }
        break;
      case 'node-removed':
        this.nodes = this.nodes.filter((n) => n.node.nodeId !== e.nodeId);
        for (const [id, t] of this.running) if (t.node!.node.nodeId === e.nodeId) this.running.delete(id);
        break;
      case 'elastic-shapes':
        if (e.shapes.length > 0) this.shapes.set(e.backend, e.shapes);
        else this.shapes.delete(e.backend);
        break;
      case 'queued': {
        const id = e.request.requestId;
        if (this.running.has(id) || this.queue.some((t) => t.req.requestId === id)) break;
        const key = classKey(e.request);
        if (!this.classFeasible.has(key)) this.classFeasible.set(key, this.feasible(e.request));
        const t: ModelTask = { req: e.request, key, seq: this.seq++, since: undefined, blocked: false };
        this.queue.push(t);
        if (!this.classFeasible.get(key)) {
          t.since = e.now;
          out.push({ type: 'infeasible', requestId: id, missing: '' });
        }
        break;
      }
      case 'dequeued':
        this.queue = this.queue.filter((t) => t.req.requestId !== e.requestId);
        break;
      case 'released': {
        const t = this.running.get(e.leaseId);
        if (t === undefined) break;
        this.running.delete(e.leaseId);
        for (const [k, v] of Object.entries(hold(t.req)))
          if (!(t.blocked && k === 'CPU')) t.node!.avail[k] = (t.node!.avail[k] ?? 0) + v;
        break;
      }
      case 'blocked':
      case 'unblocked': {
        const t = this.running.get(e.leaseId);
        if (t === undefined || t.blocked === (e.type === 'blocked')) break;
        t.blocked = e.type === 'blocked';
        const cpu = Math.max(0, hold(t.req).CPU ?? 0);
        t.node!.avail.CPU = (t.node!.avail.CPU ?? 0) + (t.blocked ? cpu : -cpu);
        break;
      }
      case 'tick':
        break;
    }
    // Feasibility depends only on nodes and shapes.
    const topologyChanged = e.type === 'node-added' || e.type === 'node-removed' || e.type === 'elastic-shapes';
    const byClass = new Map<string, ModelTask[]>();
    for (const t of topologyChanged ? this.queue : []) {
      const list = byClass.get(t.key);
      if (list === undefined) byClass.set(t.key, [t]);
      else list.push(t);
    }
    for (const [key, was] of topologyChanged ? this.classFeasible : []) {
      const members = byClass.get(key) ?? [];
      const now = members.length > 0 ? this.feasible(members[0]!.req) : was;
      if (members.length === 0) {
        this.classFeasible.delete(key); // recomputed when the class is next used
        continue;
      }
      if (now === was) continue;
      this.classFeasible.set(key, now);
      for (const t of members) {
        if (!now) out.push({ type: 'infeasible', requestId: t.req.requestId, missing: '' });
        else if (t.since !== undefined) out.push({ type: 'feasible', requestId: t.req.requestId });
        t.since = now ? undefined : e.now;
      }
    }
    for (const t of [...this.queue]) {
      if (t.since !== undefined && e.now - t.since >= GRACE) {
        this.queue.splice(this.queue.indexOf(t), 1);
        out.push({ type: 'unschedulable', requestId: t.req.requestId, reason: '' });
      }
    }
    // Oldest first; a class whose oldest request does not fit is skipped for the rest of the pass.
    const failed = new Set<string>();
    for (let i = 0; i < this.queue.length; ) {
      const t = this.queue[i]!;
      const n = failed.has(t.key) ? undefined : this.choose(t.req);
      if (n === undefined) {
        failed.add(t.key);
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      for (const [k, v] of Object.entries(hold(t.req))) n.avail[k] = (n.avail[k] ?? 0) - v;
      n.lastPicked = ++this.picks;
      t.node = n;
      this.running.set(t.req.requestId, t);
      out.push({ type: 'assign', requestId: t.req.requestId, nodeId: n.node.nodeId });
    }
    return out;
  }

  accepts(r: SchedulingRequest, n: SchedulerNode): boolean {
    const s = r.strategy;
    if (typeof s === 'object' && !s.soft && s.nodeId !== n.nodeId) return false;
    if (r.backend !== undefined && r.backend !== n.backend) return false;
    return fits(n.total, r.resources) && matchesLabels(r.labelSelector ?? {}, n.labels);
  }

  feasible(r: SchedulingRequest): boolean {
    if (this.nodes.some((n) => this.accepts(r, n.node))) return true;
    if (typeof r.strategy === 'object' && !r.strategy.soft) return false;
    for (const [backend, list] of this.shapes) {
      if (r.backend !== undefined && r.backend !== backend) continue;
      if (list.some((s) => fits(s.resources, r.resources) && matchesLabels(r.labelSelector ?? {}, s.labels)))
        return true;
    }
    return false;
  }

  choose(r: SchedulingRequest): ModelNode | undefined {
    const cands = this.nodes.filter((n) => this.accepts(r, n.node));
    const fitsNow = (n: ModelNode): boolean => fits(n.avail, r.resources);
    const util = (n: ModelNode): number => {
      let m = 0;
      for (const [k, v] of Object.entries(r.resources))
        if (v > 0) m = Math.max(m, (n.node.total[k]! - (n.avail[k] ?? 0) + v) / n.node.total[k]!);
      return m;
    };
    const s = r.strategy;
    if (typeof s === 'object' && s.soft) {
      const target = cands.find((n) => n.node.nodeId === s.nodeId);
      if (target !== undefined && fitsNow(target)) return target;
    }
    const tiers = cands.map((n) => (targetMatches(r.avoid, n.node) ? 2 : targetMatches(r.prefer, n.node) ? 0 : 1));
    for (const tier of [0, 1, 2]) {
      const nodes = cands.filter((n, i) => tiers[i] === tier && fitsNow(n));
      if (nodes.length === 0) continue;
      if (s !== 'SPREAD') {
        const packed = nodes.find((n) => util(n) <= THRESHOLD);
        if (packed !== undefined) return packed;
      }
      const tie = (n: ModelNode): number => (s === 'SPREAD' ? n.lastPicked : 0);
      return nodes.reduce((a, b) => (util(b) < util(a) || (util(b) === util(a) && tie(b) < tie(a)) ? b : a));
    }
    return undefined;
  }
}

function targetMatches(t: PlacementTarget | undefined, n: SchedulerNode): boolean {
  return (
    t !== undefined && (t.backend === undefined || t.backend === n.backend) && matchesLabels(t.labels ?? {}, n.labels)
  );
}
const hold = (r: SchedulingRequest): ResourceSet => r.holdResources ?? r.resources;
const classKey = (r: SchedulingRequest): string =>
  JSON.stringify([
    r.resources,
    r.holdResources ?? null,
    r.strategy,
    r.labelSelector ?? null,
    r.backend ?? null,
    r.prefer ?? null,
    r.avoid ?? null,
  ]);

/** Mulberry32: a small seeded PRNG so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomEvents(seed: number, count: number): SchedulerEvent[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const nodeIds = Array.from({ length: 12 }, (_, i) => `n${i}`);
  const resources = (
    [
      { CPU: 1 },
      { CPU: 2 },
      { CPU: 0.5, GPU: 0.25 },
      { GPU: 1 },
      { CPU: 1, memory: 3e9 },
      { QPU: 1 },
      { CPU: 16 },
    ] as Record<string, number>[]
  ).map((r) => unitsOf(r));
  const selectors: (Record<string, string> | undefined)[] = [
    undefined,
    { zone: 'a' },
    { accelerator: '!A100' },
    { accelerator: 'in(A100,H100)' },
    { zone: '!in(b)' },
  ];
  const targets: (PlacementTarget | undefined)[] = [undefined, { backend: 'lab' }, { labels: { zone: 'b' } }];
  const shapes: SchedulingRequest[] = Array.from({ length: 24 }, () => ({
    requestId: '',
    resources: pick(resources),
    ...(rnd() < 0.1 ? { holdResources: {} } : {}),
    strategy: rnd() < 0.6 ? 'DEFAULT' : rnd() < 0.5 ? 'SPREAD' : { nodeId: pick(nodeIds), soft: rnd() < 0.5 },
    labelSelector: rnd() < 0.6 ? undefined : pick(selectors),
    backend: rnd() < 0.8 ? undefined : pick(['local', 'lab', 'cloud']),
    prefer: rnd() < 0.7 ? undefined : pick(targets),
    avoid: rnd() < 0.7 ? undefined : pick(targets),
  }));
  const events: SchedulerEvent[] = [];
  let now = 0;
  let task = 0;
  for (let i = 0; i < count; i++) {
    now += Math.floor(rnd() * 6);
    const r = rnd();
    if (r < 0.06) {
      const node: SchedulerNode = {
        nodeId: pick(nodeIds),
        backend: pick(['local', 'local', 'lab']),
        total: unitsOf({
          CPU: 1 + Math.floor(rnd() * 8),
          ...(rnd() < 0.4 ? { GPU: pick([1, 2]) } : {}),
          ...(rnd() < 0.2 ? { QPU: 1 } : {}),
          memory: pick([4e9, 8e9]),
        }),
        labels: { zone: pick(['a', 'b']), ...(rnd() < 0.5 ? { accelerator: pick(['A100', 'H100']) } : {}) },
      };
      events.push({ type: 'node-added', node, now });
    } else if (r < 0.09) {
      events.push({ type: 'node-removed', nodeId: pick(nodeIds), now });
    } else if (r < 0.1) {
      const list = rnd() < 0.5 ? [] : [{ resources: unitsOf({ CPU: 8, GPU: 2 }), labels: { zone: 'c' } }];
      events.push({ type: 'elastic-shapes', backend: 'cloud', shapes: list, now });
    } else if (r < 0.45) {
      const shape = pick(shapes);
      // Mostly shared option objects (as from one remote function), sometimes fresh copies.
      const request =
        rnd() < 0.8
          ? { ...shape, requestId: `t${task++}` }
          : JSON.parse(JSON.stringify({ ...shape, requestId: `t${task++}` }));
      events.push({ type: 'queued', request, now });
    } else {
      const type = pick(['released', 'released', 'released', 'dequeued', 'blocked', 'unblocked', 'tick'] as const);
      const id = `t${Math.max(0, task - 1 - Math.floor(rnd() * 40))}`;
      events.push(
        type === 'tick'
          ? { type, now }
          : type === 'dequeued'
            ? { type, requestId: id, now }
            : { type, leaseId: id, now },
      );
    }
  }
  return events;
}

/** Assignments in order; other decisions as a sorted set (their order across classes is not specified). */
function normalise(ds: SchedulerDecision[]): { assigns: string[]; others: string[] } {
  return {
    assigns: ds
      .filter((d) => d.type === 'assign')
      .map((d) => (d.type === 'assign' ? `${d.requestId}@${d.nodeId}` : '')),
    others: ds
      .filter((d) => d.type !== 'assign')
      .map((d) => `${d.type}:${d.requestId}`)
      .sort(),
  };
}

describe('ClusterScheduler matches a naive model', () => {
  for (let seed = 1; seed <= 12; seed++) {
    it(`random events, seed ${seed}`, () => {
      const real = new ClusterScheduler({ infeasibleGraceMs: GRACE, spreadThreshold: THRESHOLD });
      const model = new NaiveScheduler();
      const events = randomEvents(seed, 1500);
      let assigned = 0;
      events.forEach((e, i) => {
        const got = normalise(real.handle(e));
        const want = normalise(model.handle(e));
        assigned += got.assigns.length;
        assert.deepEqual(got, want, `seed ${seed}, event ${i}: ${JSON.stringify(e)}`);
        assert.equal(real.queuedCount(), model.queue.length, `queued count, seed ${seed}, event ${i}`);
      });
      for (const n of model.nodes) assert.deepEqual(real.available(n.node.nodeId), n.avail);
      assert.ok(assigned > 100, 'the sequence exercises placement');
    });
  }
});
