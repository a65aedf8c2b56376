/**
 * Where work may run, as the code says it (TaskOptions.schedulingStrategy after validation in
 * options.ts) and as the scheduler reads it (scheduler/types.ts). Kept in core because the
 * options, the protocol and the scheduler all carry it.
 */

/** How a placement group's bundles are spread over nodes (Ray's four strategies). */
export type PlacementStrategyName =
  /** As few nodes as possible; spills over to more nodes when one is not enough. */
  | 'PACK'
  /** One bundle per node as far as possible; shares nodes when there are too few. */
  | 'SPREAD'
  /** Every bundle on one node, or the group is never ready. */
  | 'STRICT_PACK'
  /** Every bundle on its own node, or the group is never ready. */
  | 'STRICT_SPREAD';

/** The placement strategies, in the order error messages list them. */
export const PLACEMENT_STRATEGIES: readonly PlacementStrategyName[] = [
  'PACK',
  'SPREAD',
  'STRICT_PACK',
  'STRICT_SPREAD',
];

/** Work that runs inside a placement group (TaskOptions.schedulingStrategy's third form). */
export interface PlacementGroupStrategy {
  readonly placementGroup: string;
  /** The bundle to run in; -1 for any bundle with room. */
  readonly bundleIndex: number;
  /** Tasks and actors this work submits default into the same group. */
  readonly captureChildTasks: boolean;
  /** Absent: declared so code that reads node affinity off any object strategy still type-checks. */
  readonly nodeId?: undefined;
  readonly soft?: undefined;
}

/** Where a task may run, as given by the code (TaskOptions.schedulingStrategy). */
export type SchedulingStrategy =
  /** Ray's hybrid policy: pack onto nodes until they are 50% used, then pick the least used. */
  | 'DEFAULT'
  /** Spread tasks across all feasible nodes, round robin over the least loaded. */
  | 'SPREAD'
  /** Node affinity: `soft: false` runs only on that node; `soft: true` prefers it. */
  | { readonly nodeId: string; readonly soft: boolean }
  /** Inside a placement group's bundle. */
  | PlacementGroupStrategy;

/** True for a strategy that places work inside a placement group. */
export function isPlacementGroupStrategy(s: unknown): s is PlacementGroupStrategy {
  return typeof s === 'object' && s !== null && typeof (s as { placementGroup?: unknown }).placementGroup === 'string';
}
