/**
 * Resource quantities as fixed-point integers (1 unit = 1/10000) so that fractional GPUs
 * and repeated add/subtract never drift the way floats do.
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

/** Converts a user-facing record (`{ CPU: 2, GPU: 0.5 }`) to fixed-point units, dropping zeros. */
export function unitsOf(amounts: Readonly<Record<string, number>>): ResourceSet {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(amounts)) {
    const u = toUnits(v);
    if (u !== 0) out[k] = u;
  }
  return out;
}

/** Converts a fixed-point set back to user-facing quantities. */
export function amountsOf(set: ResourceSet): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(set)) out[k] = fromUnits(v);
  return out;
}

/** True when every quantity of `request` is available in `available`. */
export function fits(available: ResourceSet, request: ResourceSet): boolean {
  for (const k in request) {
    const need = request[k]!;
    if (need > 0 && (available[k] ?? 0) < need) return false;
  }
  return true;
}

/** `a + b`, per key. */
export function addResources(a: ResourceSet, b: ResourceSet): ResourceSet {
  const out: Record<string, number> = { ...a };
  for (const k in b) out[k] = (out[k] ?? 0) + b[k]!;
  return out;
}

/** `a - b`, per key (may go negative: a blocked task's CPUs are re-acquired even when oversubscribed). */
export function subtractResources(a: ResourceSet, b: ResourceSet): ResourceSet {
  const out: Record<string, number> = { ...a };
  for (const k in b) out[k] = (out[k] ?? 0) - b[k]!;
  return out;
}

/** The first resource of `request` that `total` lacks, for error messages; undefined if it fits. */
export function missingResource(total: ResourceSet, request: ResourceSet): string | undefined {
  for (const k in request) if (request[k]! > 0 && (total[k] ?? 0) < request[k]!) return k;
  return undefined;
}
