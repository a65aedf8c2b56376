/**
 * Placement groups as the pure scheduler sees them (Ray's placement groups): the events that
 * create and remove a group and the decisions that report its life. (The strategy that places
 * work inside one of its bundles is core/scheduling-strategy.ts's PlacementGroupStrategy.)
 * Kept apart from types.ts so that file stays the short list of the scheduler's inputs and
 * outputs.
 */
import type { ResourceSet } from '../core/resources.ts';
import type { PlacementStrategyName } from '../core/scheduling-strategy.ts';

/** A group as created: its id, bundles (fixed-point units) and strategy. */
export interface PlacementGroupSpec {
  readonly placementGroupId: string;
  readonly bundles: readonly ResourceSet[];
  readonly strategy: PlacementStrategyName;
  /** Only nodes of this backend (and its elastic shapes) hold bundles; absent: any backend. */
  readonly backend?: string;
}

/** Events about placement groups fed to the scheduler. */
export type PlacementGroupEvent =
  /** Reserve every bundle atomically, now or when capacity appears (a second create of one id is ignored). */
  | { readonly type: 'pg-create'; readonly group: PlacementGroupSpec; readonly now: number }
  /** Free every reservation; work queued inside fails, work running inside is reported evicted. */
  | { readonly type: 'pg-remove'; readonly placementGroupId: string; readonly now: number };

/** Decisions about placement groups, mixed in order with the scheduler's other decisions. */
export type PlacementGroupDecision = PlacementGroupDecisionBody & {
  /** Absent: declared so code that reads `requestId` off any decision still type-checks. */
  readonly requestId?: undefined;
};

type PlacementGroupDecisionBody =
  /** Every bundle is reserved; `nodeIds[i]` holds bundle i (again after a rescheduling). */
  | { readonly type: 'pg-ready'; readonly placementGroupId: string; readonly nodeIds: readonly string[] }
  /** No live node and no elastic shape could ever hold the group; it stays pending until that changes. */
  | { readonly type: 'pg-infeasible'; readonly placementGroupId: string; readonly missing: string }
  /** A group reported infeasible could now be placed (a node or shape that fits appeared). */
  | { readonly type: 'pg-feasible'; readonly placementGroupId: string }
  /** A node holding these bundles died: they are reserved again elsewhere when possible. */
  | { readonly type: 'pg-rescheduling'; readonly placementGroupId: string; readonly bundleIndices: readonly number[] }
  /** The group is gone; `evicted` are the placements (lease ids) that ran inside it. */
  | { readonly type: 'pg-removed'; readonly placementGroupId: string; readonly evicted: readonly string[] };

/** True for a decision about a placement group (the lease dispatcher passes these on). */
export function isPlacementGroupDecision(d: { readonly type: string }): d is PlacementGroupDecision {
  return d.type.startsWith('pg-');
}
