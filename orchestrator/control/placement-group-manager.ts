/**
 * The head's side of placement groups: the `pg-create` and `pg-remove` requests, the group
 * table the State API lists, each group's `ready()` object, and what removal means for the
 * work inside a group (tasks fail with PlacementGroupRemovedError, actors die). The scheduler
 * reserves the bundles (scheduler/placement-groups.ts); this module turns its decisions into
 * states, and makes tasks submitted by captured work default into the group.
 */
import type { Clock } from '../core/clock.ts';
import { PlacementGroupRemovedError, toErrorInfo } from '../core/errors.ts';
import { normalizePlacementGroup } from '../core/placement-group-options.ts';
import { unitsOf } from '../core/resources.ts';
import { serializeValue } from '../core/serialization.ts';
import type { ObjectStore } from '../objects/object-store.ts';
import type { NormalizedTaskOptions, RequestOf, TaskSubmission } from '../protocol/messages.ts';
import type { PlacementGroupRow, PlacementGroupState } from '../protocol/state-rows.ts';
import type { ClusterScheduler } from '../scheduler/cluster-scheduler.ts';
import {
  isPlacementGroupStrategy,
  type PlacementGroupStrategy,
  type PlacementStrategyName,
} from '../core/scheduling-strategy.ts';
import type { PlacementGroupDecision } from '../scheduler/placement-group-types.ts';
import type { ActorManager } from './actor-manager.ts';
import type { LeaseDispatcher } from './lease-dispatcher.ts';
import type { TaskManager } from './task-manager.ts';

interface PlacementGroupRecord {
  readonly id: string;
  readonly name: string;
  readonly strategy: PlacementStrategyName;
  readonly jobId: string;
  readonly detached: boolean;
  readonly readyId: string;
  readonly bundles: readonly Readonly<Record<string, number>>[];
  state: PlacementGroupState;
  /** Node of each bundle ('' while unplaced). */
  nodeIds: string[];
  infeasible: string | undefined;
  /** Tasks and actor creations submitted into the group (pruned of finished ones as it grows). */
  readonly members: Set<string>;
  pruneAt: number;
  readonly createdAt: number;
  removedAt: number | undefined;
}

/** The parts of the head the manager works with. */
export interface PlacementGroupHost {
  readonly scheduler: ClusterScheduler;
  readonly dispatcher: LeaseDispatcher;
  readonly tasks: Pick<TaskManager, 'task' | 'cancel' | 'fail'>;
  readonly actors: Pick<ActorManager, 'kill' | 'realId'>;
  readonly store: ObjectStore;
  log(line: string): void;
}

/** Removed groups the State API keeps listing (the oldest are forgotten past this). */
const KEEP_REMOVED = 1000;

/** Placement groups as the head tracks them. */
export class PlacementGroupManager {
  private readonly groups = new Map<string, PlacementGroupRecord>();
  private removedCount = 0;
  /** Actors created inside a group with captureChildTasks: what their calls' children inherit. */
  private readonly actorCapture = new Map<string, PlacementGroupStrategy>();
  /** Captured copies of options, so a burst of children shares one object (and one scheduling class). */
  private readonly capturedOptions = new WeakMap<NormalizedTaskOptions, Map<string, NormalizedTaskOptions>>();

  constructor(
    private readonly host: PlacementGroupHost,
    /** When groups were created and removed, and the time of the scheduler's events. */
    private readonly clock: Clock,
  ) {}

  /** Handles `pg-create` and `pg-remove` for a job. */
  serve(req: RequestOf<'pg-create' | 'pg-remove'>, jobId: string): void {
    if (req.op === 'pg-remove') return this.remove(req.placementGroupId);
    if (this.groups.has(req.placementGroupId)) return;
    const pg = normalizePlacementGroup(req.bundles, {
      strategy: req.strategy,
      name: req.name,
      lifetime: req.detached ? 'detached' : undefined,
      backend: req.backend,
    });
    const rec: PlacementGroupRecord = {
      id: req.placementGroupId,
      name: pg.name ?? '',
      strategy: pg.strategy,
      jobId,
      detached: pg.detached,
      readyId: req.readyId,
      bundles: pg.bundles,
      state: 'PENDING',
      nodeIds: pg.bundles.map(() => ''),
      infeasible: undefined,
      members: new Set(),
      pruneAt: 1024,
      createdAt: this.clock.now(),
      removedAt: undefined,
    };
    this.groups.set(rec.id, rec);
    this.host.store.createPending(rec.readyId, jobId);
    this.apply({
      type: 'pg-create',
      group: {
        placementGroupId: rec.id,
        bundles: pg.bundles.map(unitsOf),
        strategy: pg.strategy,
        ...(pg.backend === undefined ? {} : { backend: pg.backend }),
      },
      now: this.clock.now(),
    });
  }

  /**
   * Called for every submission: work submitted by a task or actor that captures child tasks,
   * and that chose no strategy of its own, runs in the parent's group (any bundle). Work in a
   * group is remembered so that removing the group can kill it.
   */
  admit(spec: TaskSubmission, parentId: string | undefined): TaskSubmission {
    if (this.groups.size === this.removedCount) return spec;
    if (spec.options.strategy === 'DEFAULT' && parentId !== undefined && spec.kind !== 'actor-call') {
      const inherited = this.captureOf(parentId);
      if (inherited !== undefined) spec = { ...spec, options: this.captured(spec.options, inherited) };
    }
    const s = spec.options.strategy;
    if (!isPlacementGroupStrategy(s)) return spec;
    const rec = this.groups.get(s.placementGroup);
    if (rec === undefined || rec.state === 'REMOVED') return spec;
    rec.members.add(spec.taskId);
    if (rec.members.size >= rec.pruneAt) this.prune(rec);
    if (spec.kind === 'actor-create' && s.captureChildTasks && spec.actorId !== undefined)
      this.actorCapture.set(spec.actorId, s);
    return spec;
  }

  /** A driver ended: its groups go, unless detached. */
  jobEnded(jobId: string): void {
    for (const rec of [...this.groups.values()]) if (rec.jobId === jobId && !rec.detached) this.remove(rec.id);
  }

  /** Rows for the State API (Ray's placement group table). */
  *rows(): Iterable<PlacementGroupRow> {
    for (const g of this.groups.values()) {
      yield {
        placementGroupId: g.id,
        name: g.name,
        state: g.state,
        strategy: g.strategy,
        creatorJobId: g.jobId,
        isDetached: g.detached,
        bundles: g.bundles.map((resources, bundleIndex) => ({
          bundleIndex,
          resources: { ...resources },
          nodeId: g.nodeIds[bundleIndex] ?? '',
        })),
        infeasibleReason: g.infeasible ?? '',
        createdAt: g.createdAt,
        removedAt: g.removedAt ?? 0,
      };
    }
  }

  private remove(id: string): void {
    const rec = this.groups.get(id);
    if (rec === undefined || rec.state === 'REMOVED') return;
    rec.state = 'REMOVED';
    rec.removedAt = this.clock.now();
    rec.nodeIds = rec.nodeIds.map(() => '');
    // Work inside fails first, so the scheduler's own failure of queued leases finds nothing left to fail.
    // Queued work goes before running work: a running task's end frees its lease slot, which
    // would otherwise start a queued task of the group on it.
    const running = (id: string) => {
      const t = this.host.tasks.task(id);
      return t !== undefined && t.spec.kind === 'task' && (t.state === 'RUNNING' || t.state === 'FAILED');
    };
    for (const taskId of rec.members) if (!running(taskId)) this.evict(rec, taskId);
    for (const taskId of rec.members) if (running(taskId)) this.evict(rec, taskId);
    rec.members.clear();
    this.apply({ type: 'pg-remove', placementGroupId: id, now: this.clock.now() });
    this.host.store.fail(
      rec.readyId,
      toErrorInfo(new PlacementGroupRemovedError(id, `placement group ${id}'s ready()`)),
    );
    this.removedCount++;
    if (this.removedCount > KEEP_REMOVED) this.forgetOldestRemoved();
  }

  private evict(rec: PlacementGroupRecord, taskId: string): void {
    const { tasks, actors, dispatcher } = this.host;
    const t = tasks.task(taskId);
    if (t === undefined) return;
    if (t.spec.kind === 'actor-create') {
      if (t.state === 'PENDING_NODE_ASSIGNMENT') dispatcher.remove(t);
      this.actorCapture.delete(t.spec.actorId ?? '');
      actors.kill(t.spec.actorId!, true, `its placement group ${rec.id} was removed`);
      return;
    }
    if (t.state === 'FINISHED') return;
    // A force cancel kills the worker (also one still running a task whose plain cancel failed it);
    // failing the record first-hand gives the error its real cause.
    if (t.state === 'RUNNING' || t.state === 'FAILED') tasks.cancel(taskId, true, false);
    tasks.fail(t, toErrorInfo(new PlacementGroupRemovedError(rec.id, `task ${t.spec.name}`)));
  }

  /** A scheduler decision about a group (the LeaseDispatcher passes them on). */
  decided(d: PlacementGroupDecision): void {
    const rec = this.groups.get(d.placementGroupId);
    if (rec === undefined || rec.state === 'REMOVED') return;
    switch (d.type) {
      case 'pg-ready':
        rec.state = 'CREATED';
        rec.nodeIds = [...d.nodeIds];
        this.host.store.resolve(rec.readyId, serializeValue(undefined, 'placement group ready()'));
        break;
      case 'pg-rescheduling':
        rec.state = 'RESCHEDULING';
        for (const i of d.bundleIndices) rec.nodeIds[i] = '';
        break;
      case 'pg-infeasible':
        rec.infeasible = d.missing;
        this.host.log(
          `orrery: warning: placement group ${rec.id}${rec.name ? ` (${rec.name})` : ''} (${rec.strategy}, bundles ${JSON.stringify(rec.bundles)}) ` +
            `can never be placed: no node or backend offers ${d.missing}; it stays pending until a node that fits joins, or remove it.`,
        );
        break;
      case 'pg-feasible':
        rec.infeasible = undefined;
        break;
      case 'pg-removed':
        break;
    }
  }

  private captureOf(parentId: string): PlacementGroupStrategy | undefined {
    const parent = this.host.tasks.task(parentId);
    if (parent === undefined) return undefined;
    if (parent.spec.kind === 'actor-call')
      return this.actorCapture.get(this.host.actors.realId(parent.spec.actorId) ?? '');
    const s = parent.spec.options.strategy;
    return isPlacementGroupStrategy(s) && s.captureChildTasks ? s : undefined;
  }

  private captured(o: NormalizedTaskOptions, parent: PlacementGroupStrategy): NormalizedTaskOptions {
    let byGroup = this.capturedOptions.get(o);
    if (byGroup === undefined) this.capturedOptions.set(o, (byGroup = new Map()));
    let c = byGroup.get(parent.placementGroup);
    if (c === undefined) {
      // Ray: captured work may use any bundle, and captures its own children in turn.
      c = { ...o, strategy: { placementGroup: parent.placementGroup, bundleIndex: -1, captureChildTasks: true } };
      byGroup.set(parent.placementGroup, c);
    }
    return c;
  }

  private prune(rec: PlacementGroupRecord): void {
    for (const id of rec.members) {
      const t = this.host.tasks.task(id);
      if (t === undefined || (t.spec.kind === 'task' && (t.state === 'FINISHED' || t.state === 'FAILED')))
        rec.members.delete(id);
    }
    rec.pruneAt = Math.max(1024, rec.members.size * 2);
  }

  private forgetOldestRemoved(): void {
    for (const [id, rec] of this.groups) {
      if (rec.state !== 'REMOVED') continue;
      this.groups.delete(id);
      this.removedCount--;
      return;
    }
  }

  private apply(e: Parameters<ClusterScheduler['handle']>[0]): void {
    this.host.dispatcher.apply(this.host.scheduler.handle(e));
  }
}
