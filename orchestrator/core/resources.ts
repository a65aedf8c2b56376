/**
 * Resource quantities as fixed-point integers (1 unit = 1/10000) so that fractional GPUs
 * and repeated add/subtract never drift the way floats do.
 *
 * Custom resource names are chosen by users, and sets arrive deserialized from the wire, so a
 * set is read only through its own keys (a set without `constructor` has none of it, whatever
 * Object.prototype holds) and built with own data properties (`__proto__` is a key, not the
 * prototype). The sets stay plain objects: they are compared, spread and serialized as such.
 */

/** Number of fixed-point units in one whole resource (CPU, GPU, custom) or one byte of memory. */
export const RESOURCE_UNIT = 10_000;

/** Resource name -> quantity in fixed-point units. Keys: `CPU`, `GPU`, `memory` (bytes), custom names. */
export type ResourceSet = Readonly<Record<string, number>>;

/** Converts a user-facing quantity (e.g. 0.25 GPUs) to fixed-point units. */
export function toUnits(amount: number): number {
  return Math.round(amount * RESOURCE_UNIT);
}

/** Converts fixed-point units back to a user-facing quantity. */
export function fromUnits(units: number): number {
  return units / RESOURCE_UNIT;
}

/** The quantity of resource `name` in `set`: its own key, or 0 (never a value inherited from a prototype). */
export function quantityOf(set: Readonly<Record<string, number>>, name: string): number {
  return Object.hasOwn(set, name) ? set[name]! : 0;
}

/** Converts a user-facing record (`{ CPU: 2, GPU: 0.5 }`) to fixed-point units, dropping zeros. */
export function unitsOf(amounts: Readonly<Record<string, number>>): ResourceSet {
  return Object.fromEntries(
    Object.entries(amounts)
      .map(([k, v]) => [k, toUnits(v)] as const)
      .filter(([, u]) => u !== 0),
  );
}

/** Converts a fixed-point set back to user-facing quantities. */
export function amountsOf(set: ResourceSet): Record<string, number> {
  return Object.fromEntries(Object.entries(set).map(([k, v]) => [k, fromUnits(v)]));
}

/** True when every quantity of `request` is available in `available`. */
export function fits(available: ResourceSet, request: ResourceSet): boolean {
  for (const [k, need] of Object.entries(request)) if (need > 0 && quantityOf(available, k) < need) return false;
  return true;
}

/** `a + b`, per key. */
export function addResources(a: ResourceSet, b: ResourceSet): ResourceSet {
  return combine(a, b, 1);
}

/** `a - b`, per key (may go negative: a blocked task's CPUs are re-acquired even when oversubscribed). */
export function subtractResources(a: ResourceSet, b: ResourceSet): ResourceSet {
  return combine(a, b, -1);
}

function combine(a: ResourceSet, b: ResourceSet, sign: 1 | -1): ResourceSet {
  const out = new Map(Object.entries(a));
  for (const [k, v] of Object.entries(b)) out.set(k, (out.get(k) ?? 0) + sign * v);
  return Object.fromEntries(out);
}

/** The first resource of `request` that `total` lacks, for error messages; undefined if it fits. */
export function missingResource(total: ResourceSet, request: ResourceSet): string | undefined {
  for (const [k, need] of Object.entries(request)) if (need > 0 && quantityOf(total, k) < need) return k;
  return undefined;
}
