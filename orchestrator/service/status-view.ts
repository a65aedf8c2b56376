/**
 * `GET /api/status` (and `orrery status`): what `ray status` shows. Nodes per backend with
 * their resources, total/available/used resources, the demand waiting for a node, and the
 * requests no node or backend can ever satisfy.
 */
import { amountsOf, quantityOf } from '../core/resources.ts';
import type { Head } from '../head/head.ts';
import type { NodeRow } from '../protocol/state-rows.ts';

/** One aggregated demand entry. */
export interface DemandEntry {
  readonly resources: Record<string, number>;
  readonly backend: string | undefined;
  readonly count: number;
}

/** The status document. */
export interface StatusView {
  readonly nodes: NodeRow[];
  /** Per backend: live node count and resources. */
  readonly backends: Record<
    string,
    { alive: number; dead: number; total: Record<string, number>; available: Record<string, number> }
  >;
  readonly resources: {
    total: Record<string, number>;
    available: Record<string, number>;
    used: Record<string, number>;
  };
  /** Work ready to run, waiting for room on a node (or for an elastic backend to add one). */
  readonly pendingDemand: DemandEntry[];
  /** Work no node or backend can ever run: `missing` names the resource. */
  readonly infeasible: (DemandEntry & { missing: string })[];
  /** Task counts per state. */
  readonly tasks: Record<string, number>;
  readonly drivers: number;
  /** Seconds the head's agents keep running (and holding their resources) without a head; absent for a head whose agents die with it. */
  readonly agentGraceS?: number;
}

/** Per backend while the view is built; backend names are users', hence a Map. */
interface BackendSums {
  alive: number;
  dead: number;
  total: Map<string, number>;
  available: Map<string, number>;
}

function add(into: Map<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into.set(k, (into.get(k) ?? 0) + v);
}

/** Used = total - available per resource (never below 0), rounded to the resources' 1/10000 step. */
export function usedAmounts(
  total: Readonly<Record<string, number>>,
  available: Readonly<Record<string, number>>,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(total).map(([k, v]) => [k, Math.max(0, round(v - quantityOf(available, k)))]),
  );
}

/** Builds the status document from the head's tables. */
export function statusView(head: Head, drivers: number, agentGraceS?: number): StatusView {
  const nodes = head.queries.state('nodes');
  const sums = new Map<string, BackendSums>();
  const total = new Map<string, number>();
  const available = new Map<string, number>();
  for (const n of nodes) {
    const name = n.backend;
    let b = sums.get(name);
    if (b === undefined) sums.set(name, (b = { alive: 0, dead: 0, total: new Map(), available: new Map() }));
    if (n.state !== 'ALIVE') {
      b.dead++;
      continue;
    }
    b.alive++;
    add(b.total, n.resources);
    add(b.available, n.available);
    add(total, n.resources);
    add(available, n.available);
  }
  const backends: StatusView['backends'] = Object.fromEntries(
    [...sums].map(([name, b]) => [
      name,
      { alive: b.alive, dead: b.dead, total: Object.fromEntries(b.total), available: Object.fromEntries(b.available) },
    ]),
  );
  const totals = Object.fromEntries(total);
  const availables = Object.fromEntries(available);
  const used = usedAmounts(totals, availables);

  const infeasible = head.queries
    .infeasibleDemand()
    .map((d) => ({ resources: d.resources, backend: d.backend, missing: d.missing, count: d.count }));
  const tasks: Record<string, number> = {};
  const pending = new Map<string, { resources: Record<string, number>; backend: string | undefined; count: number }>();
  for (const t of head.queries.tasks()) {
    tasks[t.state] = (tasks[t.state] ?? 0) + 1;
    if (t.state !== 'PENDING_NODE_ASSIGNMENT' || t.spec.kind === 'actor-call') continue;
    const resources = amountsOf(t.spec.options.resources);
    const key = JSON.stringify([resources, t.spec.options.backend]);
    const e = pending.get(key);
    if (e) e.count++;
    else pending.set(key, { resources, backend: t.spec.options.backend, count: 1 });
  }
  for (const d of infeasible) {
    const e = pending.get(JSON.stringify([d.resources, d.backend]));
    if (e) e.count -= d.count;
  }
  return {
    nodes,
    backends,
    resources: { total: totals, available: availables, used },
    pendingDemand: [...pending.values()].filter((e) => e.count > 0),
    infeasible,
    tasks,
    drivers,
    ...(agentGraceS !== undefined && { agentGraceS }),
  };
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
