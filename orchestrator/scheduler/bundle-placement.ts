/**
 * Where a placement group's bundles go: the four strategies over the nodes' free resources,
 * all bundles or none, and whether a group could ever be placed on the live nodes and the
 * elastic backends' shapes. Pure functions over plain views, so they are tested directly.
 */
import {
  addResources,
  fits,
  fromUnits,
  missingResource,
  quantityOf,
  subtractResources,
  type ResourceSet,
} from '../core/resources.ts';
import type { PlacementStrategyName } from '../core/scheduling-strategy.ts';

/** A node as bundle placement sees it. */
export interface BundleNodeView {
  readonly nodeId: string;
  readonly total: ResourceSet;
  /** Free resources now (not counting other groups' reservations). */
  readonly available: ResourceSet;
}

/** A bundle still to be placed. */
export interface BundleToPlace {
  readonly index: number;
  readonly resources: ResourceSet;
}

/**
 * Chooses a node for every bundle in `bundles`, or returns undefined when they do not all fit
 * now (nothing is reserved then: groups are atomic). `placedOn` holds the nodes of the group's
 * bundles that are already placed (after a node died, only the lost bundles are placed again):
 * PACK prefers them, SPREAD avoids them, STRICT_PACK must use them, STRICT_SPREAD must not.
 * `nodes` come in join order, which breaks ties.
 */
export function placeBundles(
  strategy: PlacementStrategyName,
  bundles: readonly BundleToPlace[],
  nodes: readonly BundleNodeView[],
  placedOn: readonly string[] = [],
): Map<number, string> | undefined {
  const free = new Map<string, ResourceSet>();
  for (const n of nodes) free.set(n.nodeId, n.available);
  const count = new Map<string, number>();
  for (const id of placedOn) count.set(id, (count.get(id) ?? 0) + 1);
  const out = new Map<number, string>();
  const take = (b: BundleToPlace, nodeId: string): void => {
    out.set(b.index, nodeId);
    free.set(nodeId, subtractResources(free.get(nodeId)!, b.resources));
    count.set(nodeId, (count.get(nodeId) ?? 0) + 1);
  };
  switch (strategy) {
    case 'STRICT_PACK':
    case 'PACK': {
      const sum = bundles.reduce<ResourceSet>((acc, b) => addResources(acc, b.resources), {});
      const pinned = strategy === 'STRICT_PACK' && placedOn.length > 0 ? placedOn[0] : undefined;
      const order = [...nodes].sort((a, b) => (count.get(b.nodeId) ?? 0) - (count.get(a.nodeId) ?? 0));
      const one = order.find((n) => (pinned === undefined || n.nodeId === pinned) && fits(n.available, sum));
      if (one !== undefined) {
        for (const b of bundles) take(b, one.nodeId);
        return out;
      }
      if (strategy === 'STRICT_PACK') return undefined;
      // First fit, nodes the group already uses first: few nodes without searching all packings.
      for (const b of bundles) {
        const used = order.filter((n) => (count.get(n.nodeId) ?? 0) > 0);
        const n = [...used, ...order].find((x) => fits(free.get(x.nodeId)!, b.resources));
        if (n === undefined) return undefined;
        take(b, n.nodeId);
      }
      return out;
    }
    case 'SPREAD': {
      for (const b of bundles) {
        let best: BundleNodeView | undefined;
        for (const n of nodes) {
          if (!fits(free.get(n.nodeId)!, b.resources)) continue;
          if (best === undefined || (count.get(n.nodeId) ?? 0) < (count.get(best.nodeId) ?? 0)) best = n;
        }
        if (best === undefined) return undefined;
        take(b, best.nodeId);
      }
      return out;
    }
    case 'STRICT_SPREAD': {
      const open = nodes.filter((n) => !count.has(n.nodeId));
      const match = matchDistinct(
        bundles.map((b) => b.resources),
        open.map((n) => n.available),
      );
      if (match === undefined) return undefined;
      bundles.forEach((b, i) => {
        take(b, open[match[i]!]!.nodeId);
      });
      return out;
    }
  }
}

/** What an elastic backend could add, as feasibility sees it. */
export interface ElasticCapacity {
  readonly resources: ResourceSet;
}

/**
 * Why a group could never be placed, or undefined when it could: on the live nodes' totals,
 * plus as many nodes of each elastic shape as it needs. Values read like the rest of the
 * scheduler's `missing` texts: `GPU for bundle 1`, `one node with CPU 8 for all 3 bundles
 * (STRICT_PACK)`, `4 distinct nodes (STRICT_SPREAD); only 2 can hold a bundle`.
 */
export function explainGroupInfeasible(
  strategy: PlacementStrategyName,
  open: readonly BundleToPlace[],
  nodes: readonly { readonly nodeId: string; readonly total: ResourceSet }[],
  shapes: readonly ElasticCapacity[],
  placedOn: readonly string[] = [],
): string | undefined {
  const capacities = [...nodes.map((n) => n.total), ...shapes.map((s) => s.resources)];
  const bundles = open.map((b) => b.resources);
  for (const { index, resources: b } of open) {
    if (capacities.some((c) => fits(c, b))) continue;
    const lacking = Object.keys(b).find((k) => b[k]! > 0 && !capacities.some((c) => quantityOf(c, k) >= b[k]!));
    return `${
      lacking ??
      `${Object.keys(b)
        .filter((k) => b[k]! > 0)
        .join('+')} together on one node`
    } for bundle ${index}`;
  }
  if (strategy === 'STRICT_PACK') {
    const sum = bundles.reduce<ResourceSet>((acc, b) => addResources(acc, b), {});
    if (capacities.some((c) => fits(c, sum))) return undefined;
    const lacking = capacities.length > 0 ? missingResource(capacities[0]!, sum) : undefined;
    return `one node with ${describe(sum)} for all ${bundles.length} bundles (STRICT_PACK${lacking ? `; no node has enough ${lacking}` : ''})`;
  }
  if (strategy === 'STRICT_SPREAD') {
    // Bundles an elastic shape fits can each get a node of their own; the rest need distinct live nodes.
    const rest = bundles.filter((b) => !shapes.some((s) => fits(s.resources, b)));
    if (rest.length === 0) return undefined;
    // Nodes holding the group's other bundles are taken.
    const pool = nodes.filter((n) => !placedOn.includes(n.nodeId));
    if (
      matchDistinct(
        rest,
        pool.map((n) => n.total),
      ) !== undefined
    )
      return undefined;
    const hosts = pool.filter((n) => rest.some((b) => fits(n.total, b))).length;
    const others = placedOn.length > 0 ? ` besides the ${placedOn.length} holding its other bundles` : '';
    return `${rest.length} more distinct node(s) (STRICT_SPREAD puts each bundle on its own node); only ${hosts} can hold one${others}`;
  }
  return undefined;
}

/**
 * Assigns each item to a distinct slot it fits in: greedily when that works, else by bipartite
 * matching with augmenting paths (a greedy choice can strand a large bundle). Returns slot
 * indices per item, or undefined.
 */
function matchDistinct(items: readonly ResourceSet[], slots: readonly ResourceSet[]): number[] | undefined {
  if (items.length > slots.length) return undefined;
  // The greedy pass gives the natural answer (bundles in order over nodes in join order) when it works.
  const taken = new Set<number>();
  const greedy: number[] = [];
  for (const it of items) {
    const s = slots.findIndex((slot, i) => !taken.has(i) && fits(slot, it));
    if (s < 0) break;
    taken.add(s);
    greedy.push(s);
  }
  if (greedy.length === items.length) return greedy;
  const slotOwner = new Array<number>(slots.length).fill(-1);
  const fitsIn = items.map((it) => slots.map((s) => fits(s, it)));
  const augment = (item: number, seen: boolean[]): boolean => {
    for (let s = 0; s < slots.length; s++) {
      if (!fitsIn[item]![s] || seen[s]) continue;
      seen[s] = true;
      if (slotOwner[s] === -1 || augment(slotOwner[s]!, seen)) {
        slotOwner[s] = item;
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < items.length; i++)
    if (!augment(i, new Array<boolean>(slots.length).fill(false))) return undefined;
  const out = new Array<number>(items.length);
  slotOwner.forEach((item, s) => {
    if (item >= 0) out[item] = s;
  });
  return out;
}

/** `CPU 2, GPU 1` in user units. */
export function describe(set: ResourceSet): string {
  return Object.entries(set)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${fromUnits(v)}`)
    .join(', ');
}
