/**
 * What the rest of the process may read of a head (the State API, the service's HTTP API and
 * dashboard, session recording and resumption): typed queries over the head's tables, never the
 * tables themselves. Task records are handed out read-only (the record, not a copy).
 */
import type { ActorManager } from '../control/actor-manager.ts';
import type { SchedulingClass } from '../control/lease-dispatcher.ts';
import type { PlacementGroupManager } from '../control/placement-group-manager.ts';
import type { TaskManager } from '../control/task-manager.ts';
import type { ReadonlyTask } from '../control/task-record.ts';
import { amountsOf } from '../core/resources.ts';
import type { ObjectStore } from '../objects/object-store.ts';
import type { TransferRoutes } from '../objects/transfer-routes.ts';
import type { SpillStats } from '../objects/spill-store.ts';
import type { ObjectResult } from '../protocol/messages.ts';
import type { ObjectRow, ObjectState, StateFilter, StateQuery, StateReplies } from '../protocol/state-rows.ts';
import type { ClusterScheduler } from '../scheduler/cluster-scheduler.ts';
import type { ClusterNodes } from './cluster-nodes.ts';
import type { SpendLedger } from '../control/spend-ledger.ts';
import { filterRows, mapRows, nodeRow, summarize, taskRow } from './state-api.ts';

/** Queued work that no node or backend can ever run (`orrery status`, like `ray status`'s infeasible requests). */
export interface InfeasibleDemand {
  readonly resources: Record<string, number>;
  readonly backend: string | undefined;
  /** The resource no node or backend offers. */
  readonly missing: string;
  readonly count: number;
}

/** Read access to a head. */
export interface HeadQueries {
  /** The head's record of a task while it keeps it (finished ones go once their results are freed, past 100,000). */
  task(taskId: string): ReadonlyTask | undefined;
  /** Every task record the head keeps, in submission order. */
  tasks(): Iterable<ReadonlyTask>;
  /** How many task records the head keeps. */
  taskCount(): number;
  /** The outcome of a done object whose value the head has; undefined while pending or lost, and for values only a node holds. */
  result(objectId: string): ObjectResult | undefined;
  /** Where an object is in its life; undefined once it was freed (or for an id this head never made). */
  objectState(objectId: string): ObjectState | undefined;
  /** A State API query; filters and the limit (default 10,000) apply to the row lists. */
  state<Q extends StateQuery>(query: Q, filters?: readonly StateFilter[], limit?: number): StateReplies[Q];
  /** Queued work that no node or backend can ever run, per scheduling class. */
  infeasibleDemand(): InfeasibleDemand[];
  /** The backend a node belongs to ('' for an unknown node). */
  backendOfNode(nodeId: string): string;
  /** Live nodes' ids, in join order. */
  nodeIds(): string[];
  /** Bytes and time the object store spent spilling values to disk and reading them back. */
  spillStats(): Readonly<SpillStats>;
  /** Bytes of values the object store holds in the head's memory now, and its budget before it spills. */
  objectStoreBytes(): { readonly usedBytes: number; readonly memoryBytes: number };
}

/** The tables the queries read. */
export interface QueriedTables {
  readonly tasks: TaskManager;
  readonly actors: ActorManager;
  readonly placementGroups: PlacementGroupManager;
  readonly store: ObjectStore;
  /** Copies fetched by other nodes and bytes moved, per object. */
  readonly transfers: TransferRoutes;
  readonly scheduler: ClusterScheduler;
  readonly nodes: ClusterNodes;
  readonly spend: SpendLedger;
}

/** HeadQueries over a head's tables. */
export class StateQueries implements HeadQueries {
  /** Classes the scheduler reported infeasible (pruned when read), for `infeasibleDemand`. */
  private readonly infeasible = new Set<SchedulingClass>();

  constructor(private readonly t: QueriedTables) {}

  /** The scheduler found no node or backend for a class: it is listed while tasks of it wait. */
  noteInfeasible(cls: SchedulingClass): void {
    this.infeasible.add(cls);
  }

  task(taskId: string): ReadonlyTask | undefined {
    return this.t.tasks.task(taskId);
  }

  tasks(): Iterable<ReadonlyTask> {
    return this.t.tasks.records();
  }

  taskCount(): number {
    return this.t.tasks.size;
  }

  result(objectId: string): ObjectResult | undefined {
    return this.t.store.result(objectId);
  }

  objectState(objectId: string): ObjectState | undefined {
    return this.t.store.stateOf(objectId);
  }

  state<Q extends StateQuery>(query: Q, filters?: readonly StateFilter[], limit?: number): StateReplies[Q] {
    // Each case answers its own query; TypeScript cannot relate a case to Q, hence the one cast.
    return this.answer(query, filters, limit) as StateReplies[Q];
  }

  infeasibleDemand(): InfeasibleDemand[] {
    const out: InfeasibleDemand[] = [];
    for (const cls of this.infeasible) {
      if (cls.infeasible === undefined || cls.waiting.length === 0) {
        this.infeasible.delete(cls);
        continue;
      }
      out.push({
        resources: amountsOf(cls.template.resources),
        backend: cls.template.backend,
        missing: cls.infeasible,
        count: cls.waiting.length,
      });
    }
    return out;
  }

  backendOfNode(nodeId: string): string {
    return this.t.nodes.backendOf(nodeId);
  }

  nodeIds(): string[] {
    return this.t.nodes.aliveIds();
  }

  spillStats(): Readonly<SpillStats> {
    return this.t.store.spill.stats;
  }

  objectStoreBytes(): { readonly usedBytes: number; readonly memoryBytes: number } {
    return { usedBytes: this.t.store.usedBytes, memoryBytes: this.t.store.memoryBytes };
  }

  private answer(
    query: StateQuery,
    filters: readonly StateFilter[] | undefined,
    limit: number | undefined,
  ): StateReplies[StateQuery] {
    const { tasks, actors, store, placementGroups, scheduler, nodes } = this.t;
    switch (query) {
      case 'tasks':
        return filterRows(mapRows(tasks.records(), taskRow), filters, limit);
      case 'actors':
        return filterRows(actors.rows(), filters, limit);
      case 'objects':
        return filterRows(
          mapRows(store.rows(), (r) => withTransfers(r, this.t.transfers)),
          filters,
          limit,
        );
      case 'nodes':
        return filterRows(
          mapRows(nodes.all(), (n) => nodeRow(n, scheduler.available(n.nodeId))),
          filters,
          limit,
        );
      case 'summary':
        return summarize(tasks.records(), tasks.retiredRecords());
      case 'cluster-resources':
        return amountsOf(nodes.sumOver((n) => n.total));
      case 'available-resources':
        return amountsOf(nodes.sumOver((n) => scheduler.available(n.nodeId) ?? {}));
      case 'cost':
        return this.t.spend.summary();
      case 'placement-groups':
        return filterRows(placementGroups.rows(), filters, limit);
      default:
        throw new TypeError(`unknown state query ${JSON.stringify(query)}`);
    }
  }
}

/** An object's row with the nodes holding copies and the bytes it moved. */
function withTransfers(r: ObjectRow, transfers: TransferRoutes): ObjectRow {
  const copies = transfers.copiesOf(r.objectId);
  const moved = transfers.moved(r.objectId);
  return {
    ...r,
    locations: [...new Set([...(r.nodeId ? [r.nodeId] : []), ...copies])].join(','),
    directBytes: moved.directBytes,
    directMs: moved.directMs,
    relayBytes: moved.relayBytes,
  };
}
