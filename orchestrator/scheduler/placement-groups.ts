/**
 * Placement groups inside the cluster scheduler (Ray's placement groups). A group reserves all
 * of its bundles at once or none; a reserved bundle's resources leave its node's free pool, so
 * other work cannot take them, and become that bundle's own capacity. Work whose strategy names
 * the group runs only inside a bundle (a given index, or any bundle with room for -1). A node
 * dying with bundles on it sends the group back to rescheduling; removing a group gives its
 * reservations back and reports what ran inside it so the caller can kill it.
 *
 * The table is driven by ClusterScheduler, which owns the nodes; it shares their NodeState
 * objects and bumps `version` or calls `freed` exactly as the scheduler's own placements do.
 */
import { addResources, fits, quantityOf, type ResourceSet } from '../core/resources.ts';
import { describe, explainGroupInfeasible, placeBundles, type BundleToPlace } from './bundle-placement.ts';
import type { PlacementGroupStrategy } from '../core/scheduling-strategy.ts';
import type { PlacementGroupSpec } from './placement-group-types.ts';
import type { NodeState } from './request-class.ts';
import type { ElasticShape, PendingDemand, SchedulerDecision, SchedulingRequest } from './types.ts';

/** What the table needs from the scheduler that hosts it. */
export interface PlacementGroupHost {
  /** Live nodes, in join order. */
  readonly nodes: ReadonlyMap<string, NodeState>;
  /** Elastic shapes by backend name. */
  readonly shapes: ReadonlyMap<string, readonly ElasticShape[]>;
  /** Resources went back to a node: the scheduler's own classes may place there again. */
  freed(ns: NodeState): void;
  emit(d: SchedulerDecision): void;
}

/** Group states as the scheduler tracks them (REMOVED groups leave the table). */
export type GroupState =
  /** Not every bundle is reserved yet. */
  | 'PENDING'
  /** Every bundle is reserved. */
  | 'CREATED'
  /** A node with some of its bundles died; those are being reserved again. */
  | 'RESCHEDULING';

interface Bundle {
  readonly index: number;
  readonly resources: ResourceSet;
  /** Node holding the reservation; undefined while unplaced. */
  ns: NodeState | undefined;
  /** Capacity left inside the reservation (null prototype: custom resource names index it). */
  free: Record<string, number>;
}

/** A bundle's free capacity, starting as a copy of `from`. */
function freeSet(from: ResourceSet): Record<string, number> {
  return Object.assign(Object.create(null) as Record<string, number>, from);
}

interface Group {
  readonly spec: PlacementGroupSpec;
  readonly bundles: Bundle[];
  state: GroupState;
  /** Why it could never be placed, as last reported; undefined when feasible. */
  infeasible: string | undefined;
  /** Work waiting for room in a bundle, oldest first. */
  queue: Queued[];
  /** Placements running inside bundles, by lease id. */
  readonly running: Map<string, Running>;
}

interface Queued {
  readonly request: SchedulingRequest;
  readonly group: Group;
  readonly bundleIndex: number;
}

interface Running {
  readonly group: Group;
  readonly bundle: Bundle;
  readonly hold: ResourceSet;
  blocked: boolean;
}

/** The scheduler's placement groups and the work placed inside them. */
export class PlacementGroupTable {
  private readonly groups = new Map<string, Group>();
  /** Groups with unplaced bundles, in creation order (Map order is insertion order). */
  private readonly pending = new Set<Group>();
  /** Queued requests by request id. */
  private readonly queued = new Map<string, Queued>();
  /** Placed leases by lease id. */
  private readonly running = new Map<string, Running>();
  /** Groups whose queued work may fit now. */
  private readonly dirty = new Set<Group>();
  /** Free resources or nodes changed since pending groups last tried to place. */
  private capacityChanged = false;

  constructor(private readonly host: PlacementGroupHost) {}

  /** Number of requests waiting for room inside a bundle. */
  get queuedCount(): number {
    return this.queued.size;
  }

  /** State of a group, or undefined when it does not exist (never created, or removed). */
  stateOf(placementGroupId: string): GroupState | undefined {
    return this.groups.get(placementGroupId)?.state;
  }

  /** Free capacity left inside each bundle of a group (user units; nodeId '' while unplaced). */
  bundlesOf(placementGroupId: string): { nodeId: string; free: ResourceSet }[] | undefined {
    return this.groups
      .get(placementGroupId)
      ?.bundles.map((b) => ({ nodeId: b.ns?.node.nodeId ?? '', free: { ...b.free } }));
  }

  /** Creates a group; it tries to reserve at the end of the event (`place`). */
  create(spec: PlacementGroupSpec): void {
    if (this.groups.has(spec.placementGroupId)) return;
    const g: Group = {
      spec,
      bundles: spec.bundles.map((resources, index) => ({ index, resources, ns: undefined, free: freeSet({}) })),
      state: 'PENDING',
      infeasible: undefined,
      queue: [],
      running: new Map(),
    };
    this.groups.set(spec.placementGroupId, g);
    this.pending.add(g);
    this.capacityChanged = true;
    this.checkFeasible(g);
  }

  /** Removes a group: queued work inside fails, reservations go back to their nodes. */
  remove(placementGroupId: string): void {
    const g = this.groups.get(placementGroupId);
    if (g === undefined) return;
    this.groups.delete(placementGroupId);
    this.pending.delete(g);
    this.dirty.delete(g);
    for (const q of g.queue) {
      this.queued.delete(q.request.requestId);
      this.host.emit({
        type: 'unschedulable',
        requestId: q.request.requestId,
        reason: `its placement group ${placementGroupId} was removed`,
      });
    }
    const evicted = [...g.running.keys()];
    for (const id of evicted) this.running.delete(id);
    for (const b of g.bundles) {
      const ns = b.ns;
      if (ns === undefined) continue;
      b.ns = undefined;
      for (const [k, v] of Object.entries(b.resources)) ns.available[k] = (ns.available[k] ?? 0) + v;
      this.host.freed(ns);
    }
    this.host.emit({ type: 'pg-removed', placementGroupId, evicted });
  }

  /** Queues work that runs inside a group; work that can never fit fails at once. */
  enqueue(request: SchedulingRequest, strategy: PlacementGroupStrategy): void {
    const id = request.requestId;
    if (this.queued.has(id) || this.running.has(id)) return;
    const g = this.groups.get(strategy.placementGroup);
    const fail = (reason: string) => this.host.emit({ type: 'unschedulable', requestId: id, reason });
    if (g === undefined) {
      return fail(
        `placement group ${strategy.placementGroup} does not exist (it was removed, or never created); create it with placementGroup() and keep it until its work is done`,
      );
    }
    const n = g.bundles.length;
    const index = strategy.bundleIndex;
    if (!Number.isInteger(index) || index < -1 || index >= n) {
      return fail(
        `bundleIndex ${index} is out of range for placement group ${g.spec.placementGroupId}, which has ${n} bundle(s); use 0..${n - 1}, or -1 for any bundle`,
      );
    }
    const candidates = index === -1 ? g.bundles : [g.bundles[index]!];
    if (!candidates.some((b) => fits(b.resources, request.resources))) {
      const where = index === -1 ? 'no bundle' : `bundle ${index}`;
      return fail(
        `${where} of placement group ${g.spec.placementGroupId} is large enough for ${describe(request.resources) || 'it'} ` +
          `(bundles: ${g.bundles.map((b) => `{${describe(b.resources)}}`).join(', ')}); ask for less, or make the bundle larger`,
      );
    }
    const q: Queued = { request, group: g, bundleIndex: index };
    g.queue.push(q);
    this.queued.set(id, q);
    this.dirty.add(g);
  }

  /** Withdraws queued work; returns false when the table does not know the id. */
  dequeue(requestId: string): boolean {
    const q = this.queued.get(requestId);
    if (q === undefined) return this.running.has(requestId);
    this.queued.delete(requestId);
    q.group.queue = q.group.queue.filter((x) => x !== q);
    return true;
  }

  /** Work inside a bundle ended: its resources go back to the bundle. False when the id is not the table's. */
  release(leaseId: string): boolean {
    const r = this.running.get(leaseId);
    if (r === undefined) return this.queued.has(leaseId);
    this.running.delete(leaseId);
    r.group.running.delete(leaseId);
    for (const [k, v] of Object.entries(r.hold)) {
      if (r.blocked && k === 'CPU') continue;
      r.bundle.free[k] = (r.bundle.free[k] ?? 0) + v;
    }
    this.dirty.add(r.group);
    return true;
  }

  /** Work inside a bundle blocked in get/wait (true) or resumed (false): its CPUs go back to the bundle meanwhile. */
  setBlocked(leaseId: string, blocked: boolean): boolean {
    const r = this.running.get(leaseId);
    if (r === undefined) return false;
    if (r.blocked === blocked) return true;
    r.blocked = blocked;
    const cpu = quantityOf(r.hold, 'CPU');
    r.bundle.free.CPU = (r.bundle.free.CPU ?? 0) + (blocked ? cpu : -cpu);
    if (blocked) this.dirty.add(r.group);
    return true;
  }

  /** Nodes joined, elastic shapes changed or resources were freed: pending groups may fit now. */
  capacityMayHaveGrown(topologyChanged: boolean): void {
    if (this.pending.size === 0) return;
    this.capacityChanged = true;
    if (topologyChanged) for (const g of this.pending) this.checkFeasible(g);
  }

  /**
   * A node died. Bundles on it are lost (the scheduler forgets the work placed there; the caller
   * re-queues it), and their groups go back to reserving them elsewhere.
   */
  nodeRemoved(ns: NodeState): void {
    for (const g of this.groups.values()) {
      const lost = g.bundles.filter((b) => b.ns === ns);
      if (lost.length === 0) continue;
      for (const b of lost) {
        b.ns = undefined;
        b.free = freeSet({});
      }
      for (const [id, r] of g.running) {
        if (r.bundle.ns !== undefined) continue;
        g.running.delete(id);
        this.running.delete(id);
      }
      g.state = 'RESCHEDULING';
      this.pending.add(g);
      this.host.emit({
        type: 'pg-rescheduling',
        placementGroupId: g.spec.placementGroupId,
        bundleIndices: lost.map((b) => b.index),
      });
    }
    this.capacityMayHaveGrown(true);
  }

  /** Reserves pending groups that fit now (oldest first), then places queued work inside bundles with room. */
  place(): void {
    if (this.capacityChanged) {
      this.capacityChanged = false;
      for (const g of this.pending) if (g.infeasible === undefined && this.reserve(g)) this.dirty.add(g);
    }
    if (this.dirty.size === 0) return;
    for (const g of this.dirty) this.placeQueued(g);
    this.dirty.clear();
  }

  /** Unplaced bundles of pending groups, for the elastic backends (STRICT_PACK asks for one node holding all). */
  pendingDemand(): PendingDemand[] {
    const out: PendingDemand[] = [];
    for (const g of this.pending) {
      if (g.infeasible !== undefined) continue;
      const open = g.bundles.filter((b) => b.ns === undefined);
      if (g.spec.strategy === 'STRICT_PACK') {
        const sum = open.reduce<ResourceSet>((acc, b) => addResources(acc, b.resources), {});
        out.push({ backend: g.spec.backend, resources: sum, labelSelector: undefined, count: 1 });
      } else {
        const separateNodes = g.spec.strategy === 'STRICT_SPREAD';
        for (const b of open)
          out.push({
            backend: g.spec.backend,
            resources: b.resources,
            labelSelector: undefined,
            count: 1,
            ...(separateNodes ? { separateNodes, group: g.spec.placementGroupId } : {}),
          });
      }
    }
    return out;
  }

  private reserve(g: Group): boolean {
    const open: BundleToPlace[] = g.bundles.filter((b) => b.ns === undefined);
    const placedOn = g.bundles.flatMap((b) => (b.ns === undefined ? [] : [b.ns.node.nodeId]));
    const views = this.nodesFor(g).map((ns) => ({
      nodeId: ns.node.nodeId,
      total: ns.node.total,
      available: ns.available,
    }));
    const choice = placeBundles(g.spec.strategy, open, views, placedOn);
    if (choice === undefined) return false;
    for (const [index, nodeId] of choice) {
      const b = g.bundles[index]!;
      const ns = this.host.nodes.get(nodeId)!;
      b.ns = ns;
      b.free = freeSet(b.resources);
      for (const [k, v] of Object.entries(b.resources)) ns.available[k] = (ns.available[k] ?? 0) - v;
      ns.version++;
    }
    g.state = 'CREATED';
    this.pending.delete(g);
    this.host.emit({
      type: 'pg-ready',
      placementGroupId: g.spec.placementGroupId,
      nodeIds: g.bundles.map((b) => b.ns!.node.nodeId),
    });
    return true;
  }

  /** Places the group's queued work, oldest first; work for a full bundle does not hold back work for another. */
  private placeQueued(g: Group): void {
    if (g.queue.length === 0) return;
    const left: Queued[] = [];
    for (const q of g.queue) {
      const need = q.request.resources;
      const candidates = q.bundleIndex === -1 ? g.bundles : [g.bundles[q.bundleIndex]!];
      const b = candidates.find((x) => x.ns !== undefined && fits(x.free, need));
      if (b === undefined) {
        left.push(q);
        continue;
      }
      const hold = q.request.holdResources ?? need;
      for (const [k, v] of Object.entries(hold)) b.free[k] = (b.free[k] ?? 0) - v;
      const id = q.request.requestId;
      this.queued.delete(id);
      const r: Running = { group: g, bundle: b, hold, blocked: false };
      this.running.set(id, r);
      g.running.set(id, r);
      this.host.emit({ type: 'assign', requestId: id, nodeId: b.ns!.node.nodeId });
    }
    g.queue = left;
  }

  /** The live nodes that may hold the group's bundles (those of its backend, when it names one). */
  private nodesFor(g: Group): NodeState[] {
    const all = [...this.host.nodes.values()];
    const backend = g.spec.backend;
    return backend === undefined ? all : all.filter((ns) => ns.node.backend === backend);
  }

  /** Reports a change of the group's feasibility (only groups still waiting for bundles are checked). */
  private checkFeasible(g: Group): void {
    const nodes = this.nodesFor(g).map((ns) => ns.node);
    const backend = g.spec.backend;
    const shapes =
      backend === undefined ? [...this.host.shapes.values()].flat() : [...(this.host.shapes.get(backend) ?? [])];
    // Bundles that stay placed keep their nodes; only the unplaced ones must still find room.
    const placedOn = g.bundles.flatMap((b) => (b.ns ? [b.ns.node.nodeId] : []));
    const open = g.bundles.filter((b) => b.ns === undefined);
    const why = open.length === 0 ? undefined : explainGroupInfeasible(g.spec.strategy, open, nodes, shapes, placedOn);
    const missing = why !== undefined && backend !== undefined ? `${why}, among the nodes of backend ${backend}` : why;
    if (missing === g.infeasible) return;
    g.infeasible = missing;
    const placementGroupId = g.spec.placementGroupId;
    this.host.emit(
      missing === undefined
        ? { type: 'pg-feasible', placementGroupId }
        : { type: 'pg-infeasible', placementGroupId, missing },
    );
    if (missing === undefined) this.capacityChanged = true;
  }
}
