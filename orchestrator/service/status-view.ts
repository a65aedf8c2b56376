/**
 * `GET /api/status` (and `orrery status`): what `ray status` shows. Nodes per backend with
 * their resources, total/available/used resources, the demand waiting for a node, and the
 * requests no node or backend can ever satisfy.
 */
import { amountsOf } from '../core/resources.ts';
import type { Head } from '../head/head.ts';

/** One aggregated demand entry. */
export interface DemandEntry {
  readonly resources: Record<string, number>;
  readonly backend: string | undefined;
  readonly count: number;
}

/** The status document. */
export interface StatusView {
  readonly nodes: Record<string, unknown>[];
  /** Per backend: live node count and resources. */
  readonly backends: Record<string, { alive: number; dead: number; total: Record<string, number>; available: Record<string, number> }>;
  readonly resources: { total: Record<string, number>; available: Record<string, number>; used: Record<string, number> };
  /** Work ready to run, waiting for room on a node (or for an elastic backend to add one). */
  readonly pendingDemand: DemandEntry[];
  /** Work no node or backend can ever run: `missing` names the resource. */
  readonly infeasible: (DemandEntry & { missing: string })[];
  /** Task counts per state. */
  readonly tasks: Record<string, number>;
  readonly drivers: number;
}

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Builds the status document from the head's tables. */
export function statusView(head: Head, drivers: number): StatusView {
  const nodes = head.serve({ op: 'state', query: 'nodes' }, { jobId: '' }) as Record<string, unknown>[];
  const backends: StatusView['backends'] = {};
  const total: Record<string, number> = {};
  const available: Record<string, number> = {};
  for (const n of nodes) {
    const b = (backends[String(n.backend)] ??= { alive: 0, dead: 0, total: {}, available: {} });
    if (n.state !== 'ALIVE') {
      b.dead++;
      continue;
    }
    b.alive++;
    add(b.total, n.resources as Record<string, number>);
    add(b.available, n.available as Record<string, number>);
    add(total, n.resources as Record<string, number>);
    add(available, n.available as Record<string, number>);
  }
  const used: Record<string, number> = {};
  for (const [k, v] of Object.entries(total)) used[k] = Math.max(0, round(v - (available[k] ?? 0)));

  const infeasible = head.infeasibleDemand().map((d) => ({ resources: d.resources, backend: d.backend, missing: d.missing, count: d.count }));
  const tasks: Record<string, number> = {};
  const pending = new Map<string, { resources: Record<string, number>; backend: string | undefined; count: number }>();
  for (const t of head.tasks.tasks.values()) {
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
    resources: { total, available, used },
    pendingDemand: [...pending.values()].filter((e) => e.count > 0),
    infeasible,
    tasks,
    drivers,
  };
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
