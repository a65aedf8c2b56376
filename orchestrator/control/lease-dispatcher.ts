/**
 * Turns ready tasks into leases and leases into runs. A lease is one scheduler placement (a
 * worker slot on a node holding the task's resources). Tasks of one scheduling class reuse a
 * lease when they run back to back and, when they are short, are pipelined onto it a few at a
 * time (Ray's lease reuse), which is what makes small tasks cheap without over-committing nodes.
 */
import type { Clock, Timer } from '../core/clock.ts';
import { amountsOf, type ResourceSet } from '../core/resources.ts';
import { newId } from '../core/ids.ts';
import type { ClusterScheduler } from '../scheduler/cluster-scheduler.ts';
import type { PlacementTarget, SchedulerDecision, SchedulingRequest } from '../scheduler/types.ts';
import { isPlacementGroupDecision, type PlacementGroupDecision } from '../scheduler/placement-group-types.ts';
import type { TaskRecord } from './task-record.ts';
import { Fifo } from '../core/fifo.ts';
import type { Channel } from '../protocol/channel.ts';

/** Requests for new leases a class may have queued in the scheduler at once (Ray: 10). */
const MAX_PENDING_LEASE_REQUESTS = 10;
/** Pipelining aims to keep this much work (ms, as workers measure it) queued on a lease. */
const PIPELINE_TARGET_MS = 2;
const MAX_PIPELINE_DEPTH = 32;
/**
 * A lease whose class ran dry is kept this long before it goes back to the scheduler, so a
 * driver that submits tasks one at a time reuses the same worker (and its direct link).
 */
const LEASE_IDLE_MS = 10;

/** A placement held on a node. */
export interface Lease {
  readonly id: string;
  readonly nodeId: string;
  readonly cls: SchedulingClass;
  readonly inflight: Set<TaskRecord>;
  blocked: number;
  /** The worker the node's agent bound to this lease, once a result told the head. */
  workerId: string | undefined;
  /** That worker's direct link to the head, fixed when the binding is learnt (so calls keep their order). */
  link: Channel | undefined;
  /** Code hashes sent over the direct link. */
  readonly sentCode: Set<string>;
  /** The head asked the node to kill this lease's worker (force cancel): its other tasks are not to blame. */
  killRequested: boolean;
  /** Set while the lease is parked idle, waiting briefly for another task of its class. */
  idleTimer: Timer | undefined;
}

/** Tasks that share resources and placement constraints. */
export interface SchedulingClass {
  readonly key: string;
  readonly template: Omit<SchedulingRequest, 'requestId'>;
  /** User-facing amounts held, for getRuntimeContext. */
  readonly assigned: Readonly<Record<string, number>>;
  /** Actor creation: one lease, held for the actor's life, never reused. */
  readonly dedicated: boolean;
  readonly waiting: Fifo<TaskRecord>;
  requested: number;
  readonly leases: Set<Lease>;
  avgMs: number;
  samples: number;
  infeasible: string | undefined;
}

/** What the dispatcher asks of the head. */
export interface DispatchIO {
  start(t: TaskRecord, lease: Lease): void;
  unschedulable(t: TaskRecord, reason: string): void;
  infeasible(cls: SchedulingClass, missing: string): void;
  leaseEnded(lease: Lease): void;
  /** Receives the scheduler's placement group decisions (the PlacementGroupManager's). */
  placementGroup(d: PlacementGroupDecision): void;
}

/** Where a task should go once placement rules are applied. */
export interface Placement {
  readonly resources: ResourceSet;
  readonly holdResources?: ResourceSet;
  readonly strategy: SchedulingRequest['strategy'];
  readonly labelSelector?: Readonly<Record<string, string>>;
  readonly backend?: string;
  readonly prefer?: PlacementTarget;
  readonly avoid?: PlacementTarget;
}

/** Leases and the queue of ready tasks per scheduling class. */
export class LeaseDispatcher {
  private readonly classes = new Map<string, SchedulingClass>();
  private readonly requests = new Map<string, SchedulingClass>();
  private readonly leases = new Map<string, Lease>();

  constructor(
    private readonly scheduler: ClusterScheduler,
    private readonly io: DispatchIO,
    /** Time for the scheduler's events, and the idle timer of parked leases. */
    private readonly clock: Clock,
  ) {}

  /** The class of a placement (one per distinct placement; `dedicated` for actors). */
  classOf(p: Placement, dedicatedKey?: string): SchedulingClass {
    const key =
      dedicatedKey ??
      JSON.stringify([p.resources, p.holdResources, p.strategy, p.labelSelector, p.backend, p.prefer, p.avoid]);
    let cls = this.classes.get(key);
    if (!cls) {
      const { resources, holdResources, strategy, labelSelector, backend, prefer, avoid } = p;
      cls = {
        key,
        template: { resources, holdResources, strategy, labelSelector, backend, prefer, avoid },
        assigned: amountsOf(holdResources ?? resources),
        dedicated: dedicatedKey !== undefined,
        waiting: new Fifo<TaskRecord>(),
        requested: 0,
        leases: new Set(),
        avgMs: 0,
        samples: 0,
        infeasible: undefined,
      };
      this.classes.set(key, cls);
    }
    return cls;
  }

  /** Queues a ready task of `cls`. */
  enqueue(t: TaskRecord, cls: SchedulingClass): void {
    t.state = 'PENDING_NODE_ASSIGNMENT';
    cls.waiting.push(t);
    this.pump(cls);
  }

  /** Takes a task that has not started out of its queue; false if it was not queued. */
  remove(t: TaskRecord): boolean {
    for (const cls of this.classes.values()) {
      if (cls.waiting.removeWhere((x) => x === t)) return true;
    }
    return false;
  }

  /** A task on a lease ended (any outcome): its slot frees; the lease runs the next task or is returned. */
  taskEnded(t: TaskRecord): void {
    const lease = t.lease;
    t.lease = undefined;
    if (!lease?.inflight.delete(t)) return;
    const cls = lease.cls;
    if (t.execMs !== undefined) {
      const ms = t.execMs;
      cls.avgMs = cls.samples === 0 ? ms : cls.avgMs * 0.8 + ms * 0.2;
      cls.samples++;
    }
    if (cls.dedicated) return;
    const othersWaiting = this.scheduler.queuedCount() > cls.requested;
    if (cls.waiting.length > 0 && !othersWaiting) this.fill(lease);
    else if (lease.inflight.size === 0) {
      if (othersWaiting || cls.waiting.length > 0) this.release(lease);
      else this.park(lease);
    }
    this.pump(cls);
  }

  /** Nodes that hold at least one lease. */
  busyNodes(): Set<string> {
    const out = new Set<string>();
    for (const l of this.leases.values()) out.add(l.nodeId);
    return out;
  }

  /** A live lease by id. */
  lease(id: string): Lease | undefined {
    return this.leases.get(id);
  }

  /** A result named the worker that holds `lease`: its runs go to that worker, over `link` when it has a direct one. */
  workerBound(lease: Lease, workerId: string, link: Channel | undefined): void {
    if (lease.workerId === workerId) return;
    lease.workerId = workerId;
    lease.link = link;
    lease.sentCode.clear();
  }

  /** The head asks the node to kill the worker of `lease` (force cancel): its other tasks are not to blame. */
  killRequested(lease: Lease): void {
    lease.killRequested = true;
  }

  /** The worker of `lease` died; returns whether the head had asked for that (killRequested). */
  workerLost(lease: Lease): boolean {
    const killed = lease.killRequested;
    lease.workerId = undefined;
    lease.link = undefined;
    lease.killRequested = false;
    return killed;
  }

  private park(lease: Lease): void {
    if (lease.idleTimer) return;
    lease.idleTimer = this.clock.setTimeout(() => {
      lease.idleTimer = undefined;
      if (lease.inflight.size === 0) this.release(lease);
    }, LEASE_IDLE_MS);
  }

  /** Returns a lease to the scheduler (an actor died, or its class ran dry). */
  release(lease: Lease): void {
    if (lease.idleTimer) this.clock.clearTimeout(lease.idleTimer);
    lease.idleTimer = undefined;
    if (!this.leases.delete(lease.id)) return;
    lease.cls.leases.delete(lease);
    this.io.leaseEnded(lease);
    this.apply(this.scheduler.handle({ type: 'released', leaseId: lease.id, now: this.clock.now() }));
  }

  /** A node is gone: its leases vanish; returns the tasks that were on them. */
  nodeRemoved(nodeId: string): TaskRecord[] {
    const lost: TaskRecord[] = [];
    for (const lease of [...this.leases.values()]) {
      if (lease.nodeId !== nodeId) continue;
      if (lease.idleTimer) this.clock.clearTimeout(lease.idleTimer);
      this.leases.delete(lease.id);
      lease.cls.leases.delete(lease);
      for (const t of lease.inflight) {
        t.lease = undefined;
        lost.push(t);
      }
    }
    this.apply(this.scheduler.handle({ type: 'node-removed', nodeId, now: this.clock.now() }));
    return lost;
  }

  /** A running task waits in get/wait: its lease gives its CPUs back meanwhile. */
  setBlocked(t: TaskRecord, blocked: boolean): void {
    const lease = t.lease;
    if (!lease || !this.leases.has(lease.id)) return;
    lease.blocked += blocked ? 1 : -1;
    if (blocked && lease.blocked === 1)
      this.apply(this.scheduler.handle({ type: 'blocked', leaseId: lease.id, now: this.clock.now() }));
    if (!blocked && lease.blocked === 0)
      this.apply(this.scheduler.handle({ type: 'unblocked', leaseId: lease.id, now: this.clock.now() }));
  }

  /** Feeds scheduler decisions from events the head raised itself (node joined, time passed). */
  apply(decisions: readonly SchedulerDecision[]): void {
    for (const d of decisions) {
      if (isPlacementGroupDecision(d)) {
        this.io.placementGroup(d);
        continue;
      }
      const cls = this.requests.get(d.requestId);
      if (!cls) continue;
      switch (d.type) {
        case 'assign': {
          this.requests.delete(d.requestId);
          cls.requested--;
          cls.infeasible = undefined;
          const lease: Lease = {
            id: d.requestId,
            nodeId: d.nodeId,
            cls,
            inflight: new Set(),
            blocked: 0,
            workerId: undefined,
            link: undefined,
            sentCode: new Set(),
            killRequested: false,
            idleTimer: undefined,
          };
          this.leases.set(lease.id, lease);
          cls.leases.add(lease);
          if (cls.waiting.length === 0) this.release(lease);
          else this.fill(lease);
          break;
        }
        case 'infeasible':
          if (cls.infeasible === undefined) this.io.infeasible(cls, d.missing);
          cls.infeasible = d.missing;
          break;
        case 'feasible':
          cls.infeasible = undefined;
          break;
        case 'unschedulable': {
          this.requests.delete(d.requestId);
          cls.requested--;
          cls.infeasible = undefined;
          for (const t of cls.waiting.drain()) this.io.unschedulable(t, d.reason);
          break;
        }
      }
    }
  }

  private depth(cls: SchedulingClass): number {
    if (cls.dedicated || cls.samples === 0 || cls.template.strategy !== 'DEFAULT') return 1;
    return Math.max(1, Math.min(MAX_PIPELINE_DEPTH, Math.floor(PIPELINE_TARGET_MS / Math.max(cls.avgMs, 0.01))));
  }

  private fill(lease: Lease, depth = this.depth(lease.cls)): void {
    const cls = lease.cls;
    if (lease.idleTimer && cls.waiting.length > 0) {
      this.clock.clearTimeout(lease.idleTimer);
      lease.idleTimer = undefined;
    }
    while (cls.waiting.length > 0 && lease.inflight.size < depth) {
      const t = cls.waiting.shift()!;
      t.lease = lease;
      lease.inflight.add(t);
      this.io.start(t, lease);
    }
  }

  private pump(cls: SchedulingClass): void {
    if (!cls.dedicated)
      for (const lease of cls.leases) if (lease.inflight.size === 0 && cls.waiting.length > 0) this.fill(lease, 1);
    while (
      cls.waiting.length > 0 &&
      cls.requested < MAX_PENDING_LEASE_REQUESTS &&
      cls.requested < cls.waiting.length &&
      cls.infeasible === undefined
    ) {
      const id = newId();
      cls.requested++;
      this.requests.set(id, cls);
      this.apply(
        this.scheduler.handle({ type: 'queued', request: { ...cls.template, requestId: id }, now: this.clock.now() }),
      );
      if (cls.requested > 0 && this.requests.get(id) === cls) break;
    }
    if (cls.waiting.length === 0 || cls.dedicated) return;
    for (const lease of cls.leases) {
      if (cls.waiting.length === 0) break;
      this.fill(lease);
    }
  }
}
