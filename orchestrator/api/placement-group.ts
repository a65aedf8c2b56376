/**
 * `placementGroup()` and `removePlacementGroup()` (Ray's `ray.util.placement_group`): reserve
 * bundles of resources across nodes atomically, then run tasks and actors inside them with
 * `schedulingStrategy: { placementGroup, bundleIndex? }`.
 */
import { newId } from '../core/ids.ts';
import { ObjectRef } from '../core/object-ref.ts';
import { normalizePlacementGroup, type PlacementGroupOptions } from '../core/placement-group-options.ts';
import type { PlacementStrategyName } from '../core/scheduling-strategy.ts';
import { get, wait } from './objects.ts';
import { currentRuntime } from './runtime.ts';

/** A group of resource bundles reserved together (or waiting to be). */
export class PlacementGroup {
  /** @internal */
  constructor(
    /** Stable hex id; also accepted in place of the group in `schedulingStrategy`. */
    readonly id: string,
    /** The bundles as given (user units: `{ CPU: 1, GPU: 0.5 }`). */
    readonly bundleSpecs: readonly Readonly<Record<string, number>>[],
    readonly strategy: PlacementStrategyName,
    readonly name: string | undefined,
    /** One ref for the group's life, so reference counting keeps the ready object while the group object lives. */
    private readonly readyRef: ObjectRef<void>,
  ) {}

  /** Number of bundles. */
  get bundleCount(): number {
    return this.bundleSpecs.length;
  }

  /**
   * A ref that resolves (to undefined) once every bundle is reserved; use it with `get` or
   * `wait`, or pass it to a task. It fails with PlacementGroupRemovedError if the group is
   * removed first.
   */
  ready(): ObjectRef<void> {
    return this.readyRef;
  }

  /**
   * Waits up to `timeoutMs` for the group to be reserved: true when it is, false when the time
   * ran out. Throws PlacementGroupRemovedError when the group was removed before it was ready.
   */
  async wait(timeoutMs: number): Promise<boolean> {
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new TypeError(
        `PlacementGroup.wait(timeoutMs): timeoutMs must be a finite number >= 0 (got ${String(timeoutMs)})`,
      );
    }
    const ref = this.ready();
    const { ready } = await wait([ref], { timeoutMs });
    if (ready.length === 0) return false;
    await get(ref);
    return true;
  }
}

/**
 * Reserves `bundles` (e.g. `[{ CPU: 1 }, { CPU: 2, GPU: 1 }]`) with a strategy: PACK (few
 * nodes), SPREAD (many nodes), STRICT_PACK (one node) or STRICT_SPREAD (one node per bundle).
 * Returns at once; the reservation happens when the resources are there (`ready()`).
 * `backend` keeps every bundle on nodes of that backend.
 *
 * @throws TypeError naming the field when bundles or options are invalid.
 */
export function placementGroup(bundles: Record<string, number>[], opts: PlacementGroupOptions = {}): PlacementGroup {
  const pg = normalizePlacementGroup(bundles, opts);
  const rt = currentRuntime();
  const id = newId();
  const readyId = newId();
  rt.post({
    op: 'pg-create',
    placementGroupId: id,
    readyId,
    bundles: pg.bundles,
    strategy: pg.strategy,
    name: pg.name,
    detached: pg.detached,
    ...(pg.backend === undefined ? {} : { backend: pg.backend }),
  });
  return new PlacementGroup(
    id,
    pg.bundles.map((b) => ({ ...b })),
    pg.strategy,
    pg.name,
    new ObjectRef<void>(readyId),
  );
}

/**
 * Removes a group: its reservations are freed, tasks running or queued inside it fail with
 * PlacementGroupRemovedError and its actors die. Removing a group twice does nothing.
 */
export function removePlacementGroup(pg: PlacementGroup | { readonly id: string } | string): void {
  const id = typeof pg === 'string' ? pg : typeof pg === 'object' && pg !== null ? pg.id : undefined;
  if (typeof id !== 'string' || id === '') {
    throw new TypeError(
      `removePlacementGroup(pg): pg must be a PlacementGroup returned by placementGroup(), or its id (got ${typeof pg})`,
    );
  }
  currentRuntime().post({ op: 'pg-remove', placementGroupId: id });
}
