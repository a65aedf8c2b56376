/**
 * Hands out GPU device ids to leases. Whole-GPU requests get whole free devices; fractional
 * requests share one device (Ray's semantics: 0.25 GPU means a quarter of one device).
 */
import { RESOURCE_UNIT } from '../core/resources.ts';

/** Tracks the free fraction (in fixed-point units) of each GPU device of a node. */
export class GpuAllocator {
  private readonly free: number[];
  private readonly held = new Map<string, { ids: number[]; units: number }>();

  constructor(count: number) {
    this.free = Array.from({ length: count }, () => RESOURCE_UNIT);
  }

  /** Allocates `units` of GPU for `owner`; returns the device ids (empty if none requested or none fit). */
  allocate(owner: string, units: number): number[] {
    const existing = this.held.get(owner);
    if (existing) return existing.ids;
    if (units <= 0) return [];
    let ids: number[] = [];
    if (units < RESOURCE_UNIT) {
      let best = -1;
      for (let i = 0; i < this.free.length; i++) {
        if (this.free[i]! >= units && (best < 0 || this.free[i]! < this.free[best]!)) best = i;
      }
      if (best >= 0) ids = [best];
    } else {
      const whole = Math.ceil(units / RESOURCE_UNIT);
      ids = this.free.flatMap((f, i) => (f === RESOURCE_UNIT ? [i] : [])).slice(0, whole);
      if (ids.length < whole) ids = [];
    }
    if (ids.length === 0) return [];
    const per = Math.min(units, RESOURCE_UNIT);
    for (const i of ids) this.free[i]! -= per;
    this.held.set(owner, { ids, units: per });
    return ids;
  }

  /** Gives back what `owner` holds. */
  release(owner: string): void {
    const h = this.held.get(owner);
    if (!h) return;
    for (const i of h.ids) this.free[i]! += h.units;
    this.held.delete(owner);
  }
}
