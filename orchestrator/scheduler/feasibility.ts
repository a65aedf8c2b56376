/**
 * Whether a request class could ever run: on a live node, or on a node an elastic backend
 * could add. When it cannot, the caller is told which resource or constraint is missing, so
 * the TaskUnschedulableError says what to add rather than just "infeasible".
 */
import { containerLabelHint, exclusiveAllows } from '../core/node-labels.ts';
import { fromUnits, quantityOf, type ResourceSet } from '../core/resources.ts';
import { matchesConstraint, type ParsedLabelSelector } from '../core/label-selector.ts';
import { demandFitsShape } from '../core/shape-fit.ts';
import type { ElasticShape, SchedulerNode } from './types.ts';

/** The hard constraints of a class, as feasibility sees them. */
export interface HardConstraints {
  readonly resources: ResourceSet;
  readonly selector: ParsedLabelSelector;
  readonly backend: string | undefined;
  readonly hardNode: string | undefined;
}

interface Capacity {
  readonly backend: string;
  readonly total: ResourceSet;
  readonly labels: Readonly<Record<string, string>>;
}

/** True when a shape of an allowed elastic backend could run the class (never for hard affinity: a new node has a new id). */
export function elasticFits(want: HardConstraints, shapes: ReadonlyMap<string, readonly ElasticShape[]>): boolean {
  if (want.hardNode !== undefined) return false;
  const demand = { resources: want.resources, labelSelector: want.selector, backend: want.backend };
  for (const [backend, list] of shapes) {
    if (want.backend !== undefined && backend !== want.backend) continue;
    for (const s of list) if (demandFitsShape(demand, s, backend)) return true;
  }
  return false;
}

/**
 * Names what no live node or elastic shape provides, checking constraints in the order a
 * user would fix them: the affinity node, the backend, each label, then each resource. Values
 * look like `node n7`, `backend gpu-lab`, `label accelerator=A100`, `GPU`.
 */
export function explainMissing(
  want: HardConstraints,
  live: Iterable<SchedulerNode>,
  shapes: ReadonlyMap<string, readonly ElasticShape[]>,
): string {
  let pool: Capacity[] = [];
  if (want.hardNode !== undefined) {
    for (const n of live) if (n.nodeId === want.hardNode) pool.push(n);
    if (pool.length === 0) return `node ${want.hardNode}`;
  } else {
    pool.push(...live);
    for (const [backend, list] of shapes)
      for (const s of list) pool.push({ backend, total: s.resources, labels: s.labels });
  }
  if (want.backend !== undefined) {
    pool = pool.filter((c) => c.backend === want.backend);
    if (pool.length === 0) return `backend ${want.backend}`;
  }
  pool = pool.filter((c) => exclusiveAllows(c.labels, c.backend, want.backend));
  for (const c of want.selector) {
    const next = pool.filter((p) => matchesConstraint(c, p.labels));
    if (next.length === 0) return `label ${c.key}=${c.raw}${containerLabelHint(c.key)}`;
    pool = next;
  }
  const needed = Object.keys(want.resources).filter((k) => want.resources[k]! > 0);
  for (const k of needed) {
    if (pool.some((p) => quantityOf(p.total, k) >= want.resources[k]!)) continue;
    const most = Math.max(0, ...pool.map((p) => quantityOf(p.total, k)));
    return most === 0 ? k : `${k} ${fromUnits(want.resources[k]!)} (the most any node has is ${fromUnits(most)})`;
  }
  // Each resource exists somewhere, but no single node has all of them.
  return needed.length > 0 ? `${needed.join('+')} together on one node` : 'any node';
}
