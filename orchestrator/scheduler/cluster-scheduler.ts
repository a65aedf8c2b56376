/**
 * The cluster scheduler: a pure state machine (Dask's WorkerState model). The head feeds it
 * events (nodes joining and leaving, work queued and finished, time passing) and applies the
 * decisions it returns. Policies follow Ray: hybrid DEFAULT, SPREAD, node affinity, label
 * selectors, plus the placement rules' backend, prefer and avoid.
 *
 * Cost model: queued requests are grouped in request classes (see request-class.ts); a
 * class whose head could not be placed is "stalled" and costs nothing until resources are
 * freed on one of its candidate nodes, and choosing a node is O(log nodes). So an event
 * costs O(classes + decisions · log nodes), never O(queue) or O(nodes) per decision.
 */
import type { ResourceSet } from '../core/resources.ts';
import { elasticFits, explainMissing } from './feasibility.ts';
import { MinHeap } from './min-heap.ts';
import { isPlacementGroupStrategy } from '../core/scheduling-strategy.ts';
import { PlacementGroupTable } from './placement-groups.ts';
import { recordKey, requestClassKey, RequestClass, type NodeState, type RequestEntry } from './request-class.ts';
import type {
  ElasticShape,
  PendingDemand,
  SchedulerDecision,
  SchedulerEvent,
  SchedulerNode,
  SchedulerOptions,
  SchedulingRequest,
} from './types.ts';

/** Empty classes kept for reuse: rebuilding one costs a pass over the nodes. */
const MAX_IDLE_CLASSES = 64;

/** Ray-style cluster scheduler; see the module comment for the policies and their cost. */
export class ClusterScheduler {
  private readonly graceMs: number;
  private readonly threshold: number;
  private readonly nodes = new Map<string, NodeState>();
  private readonly shapes = new Map<string, readonly ElasticShape[]>();
  private readonly classes = new Map<string, RequestClass>();
  /** Empty classes, oldest first, evicted past MAX_IDLE_CLASSES. */
  private readonly idle = new Map<string, RequestClass>();
  /** Non-empty classes that are not stalled: the only ones a placement pass visits. */
  private readonly runnable = new Set<RequestClass>();
  /** Non-empty infeasible classes, whose requests run down their grace period. */
  private readonly waiting = new Set<RequestClass>();
  /** Queued requests and placed leases by id (one map: a placement then costs no map update). */
  private readonly entries = new Map<string, RequestEntry>();
  private queuedTotal = 0;
  /**
   * The class of the last queued request: a burst from one remote function usually shares
   * the option objects, so identity comparison skips building and hashing the class key.
   */
  private memo: { readonly request: SchedulingRequest; readonly cls: RequestClass } | undefined;
  private nodeSeq = 0;
  private entrySeq = 0;
  private pickSeq = 0;
  /** Bumped when nodes or shapes change, to invalidate cached infeasibility explanations. */
  private topology = 0;
  private out: SchedulerDecision[] = [];
  /** Placement groups and the work placed inside their bundles (placement-groups.ts). */
  readonly placementGroups = new PlacementGroupTable({
    nodes: this.nodes,
    shapes: this.shapes,
    freed: (ns) => this.freed(ns),
    emit: (d) => this.out.push(d),
  });

  /** @throws RangeError when an option is out of range. */
  constructor(opts: SchedulerOptions) {
    if (!Number.isFinite(opts.infeasibleGraceMs) || opts.infeasibleGraceMs < 0) {
      throw new RangeError(`infeasibleGraceMs must be a finite number >= 0; got ${opts.infeasibleGraceMs}`);
    }
    const threshold = opts.spreadThreshold ?? 0.5;
    if (!(threshold >= 0 && threshold <= 1)) {
      throw new RangeError(`spreadThreshold must be between 0 and 1; got ${opts.spreadThreshold}`);
    }
    this.graceMs = opts.infeasibleGraceMs;
    this.threshold = threshold;
  }

  /**
   * Applies one event and returns the decisions it leads to, in order: feasibility changes
   * first, then requests whose grace ran out, then placements (FIFO across classes).
   * Events about unknown ids, a `queued` for a task already queued or running, and a
   * `node-added` for a live node id are ignored, so replays are harmless.
   *
   * @throws TypeError when a queued request has a malformed label selector (nothing changes).
   */
  handle(event: SchedulerEvent): SchedulerDecision[] {
    const out: SchedulerDecision[] = [];
    this.out = out;
    switch (event.type) {
      case 'node-added':
        this.addNode(event.node, event.now);
        break;
      case 'node-removed':
        this.removeNode(event.nodeId, event.now);
        break;
      case 'elastic-shapes':
        this.setShapes(event.backend, event.shapes, event.now);
        break;
      case 'queued':
        this.enqueue(event.request, event.now);
        break;
      case 'dequeued':
        this.dequeue(event.requestId);
        break;
      case 'released':
        this.release(event.leaseId);
        break;
      case 'blocked':
        this.block(event.leaseId);
        break;
      case 'unblocked':
        this.unblock(event.leaseId);
        break;
      case 'tick':
        break;
      case 'pg-create':
        this.placementGroups.create(event.group);
        break;
      case 'pg-remove':
        this.placementGroups.remove(event.placementGroupId);
        break;
    }
    this.expire(event.now);
    this.placementGroups.place();
    this.place();
    return out;
  }

  /**
   * Queued requests, all of which could not be placed at the last event, aggregated per
   * (backend, resources, labelSelector): the demand elastic backends scale on. Infeasible
   * requests (no declared shape fits them) and hard node affinity (a new node cannot help)
   * are left out.
   */
  pendingDemand(): PendingDemand[] {
    const agg = new Map<
      string,
      {
        backend: string | undefined;
        resources: ResourceSet;
        labelSelector: Readonly<Record<string, string>> | undefined;
        count: number;
      }
    >();
    for (const cls of this.classes.values()) {
      if (cls.size === 0 || !cls.feasible || cls.hardNode !== undefined) continue;
      const key = `${cls.backend ?? ''}\u0001${recordKey(cls.resources)}\u0001${recordKey(cls.labelSelector)}`;
      const d = agg.get(key);
      if (d !== undefined) d.count += cls.size;
      else
        agg.set(key, {
          backend: cls.backend,
          resources: cls.resources,
          labelSelector: cls.labelSelector,
          count: cls.size,
        });
    }
    return [...agg.values(), ...this.placementGroups.pendingDemand()];
  }

  /** Free resources of a live node (a copy; CPU may be negative after `unblocked`), or undefined. */
  available(nodeId: string): ResourceSet | undefined {
    const ns = this.nodes.get(nodeId);
    return ns === undefined ? undefined : { ...ns.available };
  }

  /** Number of requests waiting for a node. */
  queuedCount(): number {
    return this.queuedTotal + this.placementGroups.queuedCount;
  }

  private addNode(node: SchedulerNode, now: number): void {
    if (this.nodes.has(node.nodeId)) return;
    const ns: NodeState = {
      node,
      seq: this.nodeSeq++,
      available: Object.assign(Object.create(null) as Record<string, number>, node.total),
      version: 0,
      lastPicked: 0,
    };
    this.nodes.set(node.nodeId, ns);
    this.topology++;
    for (const cls of this.classes.values()) {
      if (!cls.addNode(ns)) continue;
      this.refreshFeasibility(cls, now);
      if (cls.size > 0) this.runnable.add(cls);
    }
    this.placementGroups.capacityMayHaveGrown(true);
  }

  private removeNode(nodeId: string, now: number): void {
    const ns = this.nodes.get(nodeId);
    if (ns === undefined) return;
    this.nodes.delete(nodeId);
    this.topology++;
    // The caller re-queues what ran there; releases for it must not credit a dead node. A scan
    // is cheaper overall than indexing leases per node on every assignment: removals are rare.
    for (const [leaseId, rec] of this.entries) if (rec.ns === ns) this.entries.delete(leaseId);
    for (const cls of this.classes.values()) if (cls.removeNode(ns)) this.refreshFeasibility(cls, now);
    this.placementGroups.nodeRemoved(ns);
  }

  private setShapes(backend: string, shapes: readonly ElasticShape[], now: number): void {
    if (shapes.length > 0) this.shapes.set(backend, shapes);
    else this.shapes.delete(backend);
    this.topology++;
    for (const cls of this.classes.values()) {
      cls.elasticFeasible = elasticFits(cls, this.shapes);
      this.refreshFeasibility(cls, now);
    }
    this.placementGroups.capacityMayHaveGrown(true);
  }

  private enqueue(request: SchedulingRequest, now: number): void {
    if (isPlacementGroupStrategy(request.strategy)) return this.placementGroups.enqueue(request, request.strategy);
    if (this.entries.has(request.requestId)) return;
    const cls = this.classFor(request);
    const entry: RequestEntry = {
      request,
      seq: this.entrySeq++,
      cls,
      removed: false,
      infeasibleSince: undefined,
      ns: undefined,
      blocked: false,
    };
    this.entries.set(request.requestId, entry);
    this.queuedTotal++;
    if (cls.size === 0) this.idle.delete(cls.key);
    cls.push(entry);
    if (!cls.feasible) {
      entry.infeasibleSince = now;
      this.out.push({ type: 'infeasible', requestId: request.requestId, missing: this.missing(cls) });
      this.waiting.add(cls);
    } else if (!cls.stalled) {
      this.runnable.add(cls);
    }
  }

  private dequeue(requestId: string): void {
    const entry = this.entries.get(requestId);
    if (entry === undefined) return void this.placementGroups.dequeue(requestId);
    if (entry.ns !== undefined) return;
    this.entries.delete(requestId);
    this.queuedTotal--;
    entry.cls.remove(entry);
    if (entry.cls.size === 0) this.retire(entry.cls);
  }

  private release(leaseId: string): void {
    const rec = this.entries.get(leaseId);
    if (rec === undefined) return void this.placementGroups.release(leaseId);
    const ns = rec.ns;
    if (ns === undefined) return;
    this.entries.delete(leaseId);
    const avail = ns.available;
    const { keys, vals } = rec.cls.hold;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (rec.blocked && k === 'CPU') continue; // already given back by `blocked`
      avail[k] = (avail[k] ?? 0) + vals[i]!;
    }
    this.freed(ns);
  }

  private block(leaseId: string): void {
    const rec = this.entries.get(leaseId);
    if (rec === undefined) return void this.placementGroups.setBlocked(leaseId, true);
    const ns = rec.ns;
    if (ns === undefined || rec.blocked) return;
    rec.blocked = true;
    const cpu = rec.cls.hold.cpu;
    if (cpu <= 0) return;
    ns.available.CPU = (ns.available.CPU ?? 0) + cpu;
    this.freed(ns);
  }

  private unblock(leaseId: string): void {
    const rec = this.entries.get(leaseId);
    if (rec === undefined) return void this.placementGroups.setBlocked(leaseId, false);
    const ns = rec.ns;
    if (ns === undefined || !rec.blocked) return;
    rec.blocked = false;
    const cpu = rec.cls.hold.cpu;
    if (cpu <= 0) return;
    // Taken even when the node is full: the task is already running (Ray oversubscribes too).
    ns.available.CPU = (ns.available.CPU ?? 0) - cpu;
    ns.version++;
  }

  /** Resources went back to a node: every class that can use it may place again. */
  private freed(ns: NodeState): void {
    ns.version++;
    this.placementGroups.capacityMayHaveGrown(false);
    for (const cls of this.classes.values()) if (cls.nodeFreed(ns) && cls.size > 0) this.runnable.add(cls);
  }

  private classFor(request: SchedulingRequest): RequestClass {
    const memo = this.memo;
    if (
      memo !== undefined &&
      memo.request.resources === request.resources &&
      memo.request.holdResources === request.holdResources &&
      memo.request.strategy === request.strategy &&
      memo.request.labelSelector === request.labelSelector &&
      memo.request.backend === request.backend &&
      memo.request.prefer === request.prefer &&
      memo.request.avoid === request.avoid
    ) {
      return memo.cls;
    }
    const cls = this.lookupClass(request);
    this.memo = { request, cls };
    return cls;
  }

  private lookupClass(request: SchedulingRequest): RequestClass {
    const key = requestClassKey(request);
    let cls = this.classes.get(key);
    if (cls === undefined) {
      cls = new RequestClass(key, request, this.threshold);
      for (const ns of this.nodes.values()) cls.addNode(ns);
      cls.elasticFeasible = elasticFits(cls, this.shapes);
      cls.feasible = cls.candidateCount > 0 || cls.elasticFeasible;
      this.classes.set(key, cls);
    }
    return cls;
  }

  /** Reports a class's change of feasibility to each of its queued requests. */
  private refreshFeasibility(cls: RequestClass, now: number): void {
    const feasible = cls.candidateCount > 0 || cls.elasticFeasible;
    if (feasible === cls.feasible) return;
    cls.feasible = feasible;
    if (cls.size === 0) return;
    if (!feasible) {
      const missing = this.missing(cls);
      for (const e of cls.entries()) {
        e.infeasibleSince = now;
        this.out.push({ type: 'infeasible', requestId: e.request.requestId, missing });
      }
      this.waiting.add(cls);
    } else {
      for (const e of cls.entries()) {
        if (e.infeasibleSince === undefined) continue;
        e.infeasibleSince = undefined;
        this.out.push({ type: 'feasible', requestId: e.request.requestId });
      }
      this.waiting.delete(cls);
    }
  }

  private missing(cls: RequestClass): string {
    if (cls.missing === undefined || cls.missing.version !== this.topology) {
      const live = [...this.nodes.values()].map((ns) => ns.node);
      cls.missing = { text: explainMissing(cls, live, this.shapes), version: this.topology };
    }
    return cls.missing.text;
  }

  /**
   * Fails infeasible requests whose grace ran out. Within a class, grace start times follow
   * queue order (all start when the class turns infeasible, or at queueing after that), so
   * only class heads need checking.
   */
  private expire(now: number): void {
    if (this.waiting.size === 0) return;
    for (const cls of this.waiting) {
      for (let e = cls.peek(); e !== undefined; e = cls.peek()) {
        if (e.infeasibleSince === undefined || now - e.infeasibleSince < this.graceMs) break;
        cls.shift();
        this.entries.delete(e.request.requestId);
        this.queuedTotal--;
        this.out.push({
          type: 'unschedulable',
          requestId: e.request.requestId,
          reason:
            `no node or elastic backend provides ${this.missing(cls)} for this request, and none that does ` +
            `joined within ${this.graceMs} ms; add a node or backend that has it, or relax the request's ` +
            `resources, labels, backend or node affinity`,
        });
      }
      if (cls.size === 0) this.retire(cls);
    }
  }

  /** Places as many queued requests as fit, oldest first across classes. */
  private place(): void {
    if (this.runnable.size === 0) return;
    if (this.runnable.size === 1) {
      for (const cls of this.runnable) while (this.placeHead(cls));
      return;
    }
    const order = new MinHeap<RequestClass>((a, b) => a.peek()!.seq < b.peek()!.seq, [...this.runnable]);
    for (let cls = order.pop(); cls !== undefined; cls = order.pop()) if (this.placeHead(cls)) order.push(cls);
  }

  /** Places the head of a class; returns true when it did and the class has more to place. */
  private placeHead(cls: RequestClass): boolean {
    const entry = cls.peek();
    const ns = entry === undefined ? undefined : cls.choose();
    if (entry === undefined || ns === undefined) {
      // One failure stands for the whole class until resources are freed on a candidate.
      cls.stalled = entry !== undefined;
      this.runnable.delete(cls);
      return false;
    }
    cls.shift();
    const requestId = entry.request.requestId;
    const hold = cls.hold;
    const avail = ns.available;
    for (let i = 0; i < hold.keys.length; i++) {
      const k = hold.keys[i]!;
      avail[k] = (avail[k] ?? 0) - hold.vals[i]!;
    }
    ns.version++;
    ns.lastPicked = ++this.pickSeq;
    entry.ns = ns;
    this.queuedTotal--;
    this.out.push({ type: 'assign', requestId, nodeId: ns.node.nodeId });
    if (cls.size === 0) {
      this.retire(cls);
      return false;
    }
    return true;
  }

  /** A class ran empty: keep it for reuse, evicting the oldest idle one past the cap. */
  private retire(cls: RequestClass): void {
    this.runnable.delete(cls);
    this.waiting.delete(cls);
    this.idle.set(cls.key, cls);
    if (this.idle.size > MAX_IDLE_CLASSES) {
      const oldest = this.idle.keys().next().value!;
      this.idle.delete(oldest);
      this.classes.delete(oldest);
      if (this.memo?.cls.key === oldest) this.memo = undefined;
    }
  }
}
