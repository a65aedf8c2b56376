/**
 * Inputs and outputs of the pure cluster scheduler. The scheduler never does I/O: the head
 * feeds it events and applies the decisions it returns (Dask's worker state machine model).
 */
import type { ResourceSet } from '../core/resources.ts';
import type { SchedulingStrategy } from '../core/scheduling-strategy.ts';
import type { PlacementGroupDecision, PlacementGroupEvent } from './placement-group-types.ts';

/** A node as the scheduler sees it. */
export interface SchedulerNode {
  readonly nodeId: string;
  /** Name of the backend that owns the node (e.g. `local`, `gpu-lab`). */
  readonly backend: string;
  readonly total: ResourceSet;
  readonly labels: Readonly<Record<string, string>>;
}

/** Soft or hard constraints on backend and labels produced by placement rules. */
export interface PlacementTarget {
  readonly backend?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * A lease request: a worker slot for one unit of work (tasks of one scheduling class, or an
 * actor's creation). Once assigned, the request is a lease with the same id.
 */
export interface SchedulingRequest {
  /** Chosen by the caller (the lease dispatcher); the lease keeps it once assigned. */
  readonly requestId: string;
  /** Resources that must be free on a node to place the work. */
  readonly resources: ResourceSet;
  /**
   * Resources held while the work runs; defaults to `resources`. A default actor needs
   * 1 CPU to be placed but holds 0 while it lives.
   */
  readonly holdResources?: ResourceSet;
  readonly strategy: SchedulingStrategy;
  /** Hard label selector; values `v`, `!v`, `in(a,b)`, `!in(a,b)`. */
  readonly labelSelector?: Readonly<Record<string, string>>;
  /** Hard backend constraint. */
  readonly backend?: string;
  /** Soft preferences (placement rules' `prefer`): a matching node wins when one is available. */
  readonly prefer?: PlacementTarget;
  /** Soft avoidance (placement rules' `avoid`): a matching node is used only when nothing else is available. */
  readonly avoid?: PlacementTarget;
}

/** A shape of node an elastic backend could add (its capacity that does not exist yet). */
export interface ElasticShape {
  readonly resources: ResourceSet;
  readonly labels: Readonly<Record<string, string>>;
}

/** Events fed to the scheduler. `now` is milliseconds (injected for testability). */
export type SchedulerEvent =
  /** A node joined (or an elastic backend added one). */
  | { readonly type: 'node-added'; readonly node: SchedulerNode; readonly now: number }
  /** A node died or was removed; work placed there is the caller's business (it re-queues). */
  | { readonly type: 'node-removed'; readonly nodeId: string; readonly now: number }
  /** An elastic backend declares the node shapes it could add (replaces previous ones). */
  | {
      readonly type: 'elastic-shapes';
      readonly backend: string;
      readonly shapes: readonly ElasticShape[];
      readonly now: number;
    }
  /** Work wants a node. */
  | { readonly type: 'queued'; readonly request: SchedulingRequest; readonly now: number }
  /** A lease ended (its work finished, failed or was killed): its held resources are freed. */
  | { readonly type: 'released'; readonly leaseId: string; readonly now: number }
  /** A request not yet placed is withdrawn (cancelled). */
  | { readonly type: 'dequeued'; readonly requestId: string; readonly now: number }
  /** The work on a lease blocked in get/wait: its CPUs are given back (not GPUs or custom). */
  | { readonly type: 'blocked'; readonly leaseId: string; readonly now: number }
  /** Blocked work resumed: its CPUs are taken again, even if that oversubscribes the node. */
  | { readonly type: 'unblocked'; readonly leaseId: string; readonly now: number }
  /** Time passed: infeasible requests past their grace period fail. */
  | { readonly type: 'tick'; readonly now: number }
  /** Placement groups are created and removed (placement-group-types.ts). */
  | PlacementGroupEvent;

/** Decisions returned by the scheduler, in order. */
export type SchedulerDecision =
  /** The request is placed on this node: it is now a lease of the same id, holding its resources there. */
  | { readonly type: 'assign'; readonly requestId: string; readonly nodeId: string }
  /**
   * No live node and no elastic shape can ever satisfy the request (reported once, at once).
   * `missing` names the resource or constraint no node has, e.g. `GPU` or `label accelerator=A100`.
   */
  | { readonly type: 'infeasible'; readonly requestId: string; readonly missing: string }
  /** An infeasible request outlived its grace period: fail it with TaskUnschedulableError. */
  | { readonly type: 'unschedulable'; readonly requestId: string; readonly reason: string }
  /** A request reported infeasible became feasible again (a node that fits joined). */
  | { readonly type: 'feasible'; readonly requestId: string }
  /** A placement group became ready, infeasible, feasible, rescheduling or removed. */
  | PlacementGroupDecision;

/** Pending demand of one shape, per backend (like Ray's autoscaler resource demand). */
export interface PendingDemand {
  /** Backend the demand is constrained to, or undefined for any backend. */
  readonly backend: string | undefined;
  readonly resources: ResourceSet;
  readonly labelSelector: Readonly<Record<string, string>> | undefined;
  readonly count: number;
  /** Each of `count` needs a node of its own (the bundles of a STRICT_SPREAD placement group). */
  readonly separateNodes?: boolean;
  /** The placement group of a STRICT_SPREAD bundle: a backend may start the group's nodes as one job. */
  readonly group?: string;
}

/** Options of the scheduler. */
export interface SchedulerOptions {
  /** How long an infeasible request waits for a fitting node before it fails (ms). */
  readonly infeasibleGraceMs: number;
  /** Utilisation below which DEFAULT keeps packing onto a node (Ray: 0.5). */
  readonly spreadThreshold?: number;
}
