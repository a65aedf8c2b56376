/**
 * Request classes (the scheduler's side of Ray's SchedulingClass): queued lease requests with
 * the same shape and constraints share one FIFO queue and one set of candidate nodes, so a
 * failure to place the head of a class stands for the whole class, and node choice is paid
 * once per class, not once per request. (The control layer's `SchedulingClass`, in
 * control/lease-dispatcher.ts, groups the tasks that share a lease; each of its lease
 * requests lands in one of these classes.)
 */
import { exclusiveAllows } from '../core/node-labels.ts';
import { quantityOf, type ResourceSet } from '../core/resources.ts';
import { matchesLabels, parseLabelSelector, type ParsedLabelSelector } from '../core/label-selector.ts';
import { MinHeap } from './min-heap.ts';
import type { PlacementTarget, SchedulerNode, SchedulingRequest } from './types.ts';

/** The scheduler's mutable view of one live node. */
export interface NodeState {
  readonly node: SchedulerNode;
  /** Join order: DEFAULT packs onto earlier nodes first (the driver's node joins first). */
  readonly seq: number;
  /**
   * Free resources; may go negative when an unblocked task re-takes its CPUs. A null-prototype
   * copy of the node's total: custom resource names are users' and index it directly.
   */
  readonly available: Record<string, number>;
  /** Bumped on every change of `available`; lets heap entries be invalidated lazily. */
  version: number;
  /** Sequence number of the last assignment here; SPREAD round-robins by it. */
  lastPicked: number;
}

/** Held resources of a class as parallel arrays: assign and release run for every task. */
export interface HoldShape {
  readonly keys: readonly string[];
  readonly vals: readonly number[];
  /** Held CPU, given back while the task is blocked. */
  readonly cpu: number;
}

function holdShape(set: ResourceSet): HoldShape {
  const keys: string[] = [];
  const vals: number[] = [];
  for (const [k, v] of Object.entries(set)) {
    if (v === 0) continue;
    keys.push(k);
    vals.push(v);
  }
  return { keys, vals, cpu: Math.max(0, quantityOf(set, 'CPU')) };
}

/**
 * One lease request from queueing to release. One object serves both phases (queued in its
 * class, then placed on `ns` as a lease of the same id) so that a placement allocates nothing
 * and touches no map.
 */
export interface RequestEntry {
  readonly request: SchedulingRequest;
  /** Global submission order, used for FIFO across classes. */
  readonly seq: number;
  readonly cls: RequestClass;
  /** Dequeued while not at the head of its class; skipped lazily. */
  removed: boolean;
  /** When it was reported infeasible (grace starts), or undefined when it is feasible. */
  infeasibleSince: number | undefined;
  /** Node it runs on; undefined while queued. */
  ns: NodeState | undefined;
  /** Blocked in get/wait: its CPUs are back on the node. */
  blocked: boolean;
}

/** Canonical text of a record, independent of key order; zero resources are dropped. */
export function recordKey(r: Readonly<Record<string, string | number>> | undefined): string {
  if (r === undefined) return '';
  const keys = Object.keys(r);
  if (keys.length > 1) keys.sort();
  let s = '';
  for (const k of keys) if (r[k] !== 0) s += `${k}\u0002${r[k]}\u0003`;
  return s;
}

function targetKey(t: PlacementTarget | undefined): string {
  return t === undefined ? '' : `${t.backend ?? ''}\u0004${recordKey(t.labels)}`;
}

/** Requests with equal keys are interchangeable for placement and share a class. */
export function requestClassKey(r: SchedulingRequest): string {
  const s = r.strategy;
  const strategy = typeof s === 'string' ? s : `${s.soft ? 'soft' : 'hard'}:${s.nodeId}`;
  const hold = r.holdResources === undefined ? '=' : recordKey(r.holdResources);
  return `${recordKey(r.resources)}\u0001${hold}\u0001${strategy}\u0001${recordKey(r.labelSelector)}\u0001${r.backend ?? ''}\u0001${targetKey(r.prefer)}\u0001${targetKey(r.avoid)}`;
}

interface ParsedTarget {
  readonly backend: string | undefined;
  readonly selector: ParsedLabelSelector;
}

function parseTarget(t: PlacementTarget | undefined): ParsedTarget | undefined {
  if (t === undefined) return undefined;
  return { backend: t.backend, selector: t.labels === undefined ? [] : parseLabelSelector(t.labels) };
}

function targetMatches(t: ParsedTarget | undefined, node: SchedulerNode): boolean {
  if (t === undefined) return false;
  return (t.backend === undefined || t.backend === node.backend) && matchesLabels(t.selector, node.labels);
}

interface LoadEntry {
  readonly ns: NodeState;
  readonly version: number;
  readonly util: number;
  readonly tie: number;
}

function lessLoaded(a: LoadEntry, b: LoadEntry): boolean {
  if (a.util !== b.util) return a.util < b.util;
  if (a.tie !== b.tie) return a.tie < b.tie;
  return a.ns.seq < b.ns.seq;
}

/**
 * Candidate nodes of one preference tier (preferred, neutral, avoided) with two lazily
 * maintained heaps, so choosing a node is O(log nodes) amortised:
 * - `pack`, by join order, holds every node that may be under the spread threshold; a node
 *   found over it is dropped and comes back only when resources are freed on it;
 * - `load`, by utilisation after placement, holds one current entry per node plus stale
 *   ones with lower keys (nodes that filled up since), re-keyed when they reach the top.
 */
class Tier {
  readonly members = new Set<NodeState>();
  private readonly pack = new MinHeap<NodeState>((a, b) => a.seq < b.seq);
  private readonly inPack = new Set<NodeState>();
  private load: MinHeap<LoadEntry> | undefined;
  private readonly loadVersion = new Map<NodeState, number>();

  constructor(private readonly cls: RequestClass) {}

  add(ns: NodeState): void {
    this.members.add(ns);
    this.freed(ns);
  }

  remove(ns: NodeState): void {
    this.members.delete(ns);
    this.inPack.delete(ns);
    this.loadVersion.delete(ns);
  }

  /** Resources were freed on a member: its keys may have dropped, so it gets fresh entries. */
  freed(ns: NodeState): void {
    if (!this.cls.spread && !this.inPack.has(ns)) {
      this.inPack.add(ns);
      this.pack.push(ns);
    }
    if (this.load !== undefined && this.loadVersion.get(ns) !== ns.version) {
      // Stale entries pile up while DEFAULT keeps packing; drop the heap and rebuild on demand.
      if (this.load.size > 2 * this.members.size + 64) this.load = undefined;
      else this.pushLoad(ns);
    }
  }

  /** The earliest-joined member whose utilisation after placement stays <= threshold. */
  firstUnder(threshold: number): NodeState | undefined {
    for (;;) {
      const ns = this.pack.peek();
      if (ns === undefined) return undefined;
      if (this.members.has(ns) && this.cls.utilAfter(ns) <= threshold) return ns;
      this.pack.pop();
      this.inPack.delete(ns);
    }
  }

  /** The least utilised member after placement (ties: SPREAD's round robin, then join order), if it fits. */
  leastLoaded(): NodeState | undefined {
    const heap = this.load ?? this.rebuildLoad();
    for (;;) {
      const top = heap.peek();
      if (top === undefined) return undefined;
      const ns = top.ns;
      if (!this.members.has(ns)) {
        heap.pop();
      } else if (top.version !== ns.version) {
        heap.pop();
        if (this.loadVersion.get(ns) !== ns.version) this.pushLoad(ns);
      } else {
        // Every other node's current key is >= this one, so if it does not fit, none does.
        return this.cls.fitsNow(ns) ? ns : undefined;
      }
    }
  }

  private rebuildLoad(): MinHeap<LoadEntry> {
    this.loadVersion.clear();
    const entries: LoadEntry[] = [];
    for (const ns of this.members) {
      entries.push(this.entry(ns));
      this.loadVersion.set(ns, ns.version);
    }
    return (this.load = new MinHeap(lessLoaded, entries));
  }

  private pushLoad(ns: NodeState): void {
    this.load!.push(this.entry(ns));
    this.loadVersion.set(ns, ns.version);
  }

  private entry(ns: NodeState): LoadEntry {
    return { ns, version: ns.version, util: this.cls.utilAfter(ns), tie: this.cls.spread ? ns.lastPicked : 0 };
  }
}

/** One request class: constraints, candidate nodes in preference tiers, and a FIFO queue. */
export class RequestClass {
  readonly resources: ResourceSet;
  /** Resources taken from the node on assignment. */
  readonly hold: HoldShape;
  readonly labelSelector: Readonly<Record<string, string>> | undefined;
  readonly selector: ParsedLabelSelector;
  readonly backend: string | undefined;
  readonly spread: boolean;
  /** Node of a hard affinity: the only candidate. */
  readonly hardNode: string | undefined;
  /** Node of a soft affinity: tried first. */
  readonly softNode: string | undefined;
  /** Live node named by the affinity, when it satisfies the other constraints. */
  private target: NodeState | undefined;
  private readonly prefer: ParsedTarget | undefined;
  private readonly avoid: ParsedTarget | undefined;
  /** Index 0: preferred nodes, 1: neutral, 2: avoided. */
  private readonly tiers: readonly [Tier, Tier, Tier];
  private readonly needKeys: string[] = [];
  private readonly needVals: number[] = [];

  /** Set when placing the head failed; cleared when resources are freed on a candidate. */
  stalled = false;
  /** Feasibility as last reported to the caller. */
  feasible = false;
  /** Some declared elastic shape could run the class. */
  elasticFeasible = false;
  /** Cached explanation of infeasibility and the topology version it was computed at. */
  missing: { readonly text: string; readonly version: number } | undefined;
  /** Live (not removed) queued entries. */
  size = 0;
  private queue: (RequestEntry | undefined)[] = [];
  private head = 0;

  /** @throws TypeError when the request's label selectors are malformed. */
  constructor(
    readonly key: string,
    request: SchedulingRequest,
    private readonly threshold: number,
  ) {
    this.resources = request.resources;
    this.hold = holdShape(request.holdResources ?? request.resources);
    this.labelSelector = request.labelSelector;
    this.selector = request.labelSelector === undefined ? [] : parseLabelSelector(request.labelSelector);
    this.backend = request.backend;
    const s = request.strategy;
    this.spread = s === 'SPREAD';
    this.hardNode = typeof s === 'object' && !s.soft ? s.nodeId : undefined;
    this.softNode = typeof s === 'object' && s.soft ? s.nodeId : undefined;
    this.prefer = parseTarget(request.prefer);
    this.avoid = parseTarget(request.avoid);
    this.tiers = [new Tier(this), new Tier(this), new Tier(this)];
    for (const [k, v] of Object.entries(request.resources)) {
      if (v > 0) {
        this.needKeys.push(k);
        this.needVals.push(v);
      }
    }
  }

  /** Number of live nodes that could ever run the class. */
  get candidateCount(): number {
    return this.tiers[0].members.size + this.tiers[1].members.size + this.tiers[2].members.size;
  }

  /** True when the node satisfies the hard constraints and its total fits the request. */
  accepts(node: SchedulerNode): boolean {
    if (this.hardNode !== undefined && node.nodeId !== this.hardNode) return false;
    if (this.backend !== undefined && node.backend !== this.backend) return false;
    if (!exclusiveAllows(node.labels, node.backend, this.backend)) return false;
    for (let i = 0; i < this.needKeys.length; i++) {
      if (quantityOf(node.total, this.needKeys[i]!) < this.needVals[i]!) return false;
    }
    return matchesLabels(this.selector, node.labels);
  }

  /** Adds a joining node if it is a candidate; returns whether it is. */
  addNode(ns: NodeState): boolean {
    if (!this.accepts(ns.node)) return false;
    const tier = targetMatches(this.avoid, ns.node) ? 2 : targetMatches(this.prefer, ns.node) ? 0 : 1;
    this.tiers[tier].add(ns);
    if (ns.node.nodeId === (this.hardNode ?? this.softNode)) this.target = ns;
    this.stalled = false;
    return true;
  }

  /** Forgets a removed node; returns whether it was a candidate. */
  removeNode(ns: NodeState): boolean {
    if (this.target === ns) this.target = undefined;
    for (const tier of this.tiers) {
      if (tier.members.has(ns)) {
        tier.remove(ns);
        return true;
      }
    }
    return false;
  }

  /** Resources were freed on a node; returns whether it is a candidate (the class may place again). */
  nodeFreed(ns: NodeState): boolean {
    for (const tier of this.tiers) {
      if (tier.members.has(ns)) {
        tier.freed(ns);
        this.stalled = false;
        return true;
      }
    }
    return false;
  }

  /** Picks a node for the head request by the class's strategy, or undefined when none has room. */
  choose(): NodeState | undefined {
    if (this.softNode !== undefined && this.target !== undefined && this.fitsNow(this.target)) return this.target;
    for (const tier of this.tiers) {
      if (tier.members.size === 0) continue;
      const ns = this.spread ? tier.leastLoaded() : (tier.firstUnder(this.threshold) ?? tier.leastLoaded());
      if (ns !== undefined) return ns;
    }
    return undefined;
  }

  /** Ray's utilisation: max over the requested resources of used/total once the request is placed. */
  utilAfter(ns: NodeState): number {
    const total = ns.node.total;
    const avail = ns.available;
    let max = 0;
    for (let i = 0; i < this.needKeys.length; i++) {
      const k = this.needKeys[i]!;
      const t = total[k]!;
      const u = (t - (avail[k] ?? 0) + this.needVals[i]!) / t;
      if (u > max) max = u;
    }
    return max;
  }

  /** True when the request fits the node's free resources now. */
  fitsNow(ns: NodeState): boolean {
    const avail = ns.available;
    for (let i = 0; i < this.needKeys.length; i++) {
      if ((avail[this.needKeys[i]!] ?? 0) < this.needVals[i]!) return false;
    }
    return true;
  }

  /** Appends a request. */
  push(entry: RequestEntry): void {
    this.queue.push(entry);
    this.size++;
  }

  /** The oldest live request, or undefined. */
  peek(): RequestEntry | undefined {
    const q = this.queue;
    while (this.head < q.length) {
      const e = q[this.head]!;
      if (!e.removed) return e;
      q[this.head++] = undefined;
    }
    return undefined;
  }

  /** Removes the request `peek` returned. */
  shift(): void {
    this.queue[this.head++] = undefined;
    this.size--;
    if (this.size === 0) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** Withdraws a request anywhere in the queue (skipped lazily by `peek`). */
  remove(entry: RequestEntry): void {
    entry.removed = true;
    this.size--;
    if (this.size === 0) {
      this.queue = [];
      this.head = 0;
    }
  }

  /** Live requests in FIFO order. */
  *entries(): IterableIterator<RequestEntry> {
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i];
      if (e !== undefined && !e.removed) yield e;
    }
  }
}
