/**
 * Whether one node of a shape could run some demand: the one check behind the scheduler's
 * feasibility on elastic shapes (scheduler/feasibility.ts) and every elastic backend's scaling
 * (backends/slurm, backends/sagemaker, backends/local's elastic backend).
 */
import { matchesLabels, type ParsedLabelSelector } from './label-selector.ts';
import { exclusiveAllows } from './node-labels.ts';
import { fits } from './resources.ts';

/** A node's capacity and labels (a node an elastic backend could add). */
export interface NodeCapacity {
  readonly resources: Readonly<Record<string, number>>;
  readonly labels: Readonly<Record<string, string>>;
}

/** What some work needs: resources, a label selector, and the backend it names (if any). */
export interface Demand {
  /** In the same units as the capacity's resources (both fixed point, or both user amounts). */
  readonly resources: Readonly<Record<string, number>>;
  /** Raw (`v`, `!v`, `in(a,b)`, `!in(a,b)`) or parsed once for a hot path. */
  readonly labelSelector: Readonly<Record<string, string>> | ParsedLabelSelector | undefined;
  /** The backend the work is constrained to; undefined for any. */
  readonly backend: string | undefined;
}

/**
 * True when a node of `capacity`, owned by backend `owner`, could run `demand`: its resources
 * cover the demand's, its labels satisfy the label selector, and, when it is an exclusive node
 * (node-labels.ts), the demand names `owner`.
 *
 * @throws TypeError when a raw label selector is malformed.
 */
export function demandFitsShape(demand: Demand, capacity: NodeCapacity, owner: string): boolean {
  return (
    fits(capacity.resources, demand.resources) &&
    (demand.labelSelector === undefined || matchesLabels(demand.labelSelector, capacity.labels)) &&
    exclusiveAllows(capacity.labels, owner, demand.backend)
  );
}

/**
 * Nodes of one shape needed for `fitting` demand (already filtered by demandFitsShape): the
 * packable part `perNode` to a node, plus one node for each unit that needs a node of its own
 * (`separateNodes`: the bundles of a STRICT_SPREAD placement group, such as a gang's ranks).
 */
export function nodesNeeded(
  fitting: readonly { readonly count: number; readonly separateNodes?: boolean }[],
  perNode: number,
): number {
  let packable = 0;
  let separate = 0;
  for (const d of fitting) {
    if (d.separateNodes) separate += d.count;
    else packable += d.count;
  }
  return Math.ceil(packable / Math.max(1, perNode)) + separate;
}
