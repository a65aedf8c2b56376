/**
 * `ObjectRef`: a future for a value produced by a task or `put`. Deliberately not thenable,
 * so async code can return refs without their being resolved.
 */

/** Brand that marks ObjectRef instances across copies of this module. */
export const OBJECT_REF = Symbol.for('orrery.ObjectRef');

/** Told about every ObjectRef made in this process (reference counting, see api/ref-tracker.ts). */
export interface RefTrackerHook {
  /** `counted`: the head already counts this process as a holder (it submitted or put the object). */
  created(ref: ObjectRef, counted: boolean): void;
}

const TRACKER = Symbol.for('orrery.refTracker');
type TrackerSlot = { [TRACKER]?: RefTrackerHook };

/** Installs (or, with undefined, removes) this process's ref tracker; a global slot, so every copy of this module shares it. */
export function installRefTracker(t: RefTrackerHook | undefined): void {
  (globalThis as TrackerSlot)[TRACKER] = t;
}

/** A reference to an object in the cluster (a task's result or a `put` value). */
export class ObjectRef<T = unknown> {
  /** Stable hex id of the object. */
  readonly id: string;
  declare readonly __type?: T;
  readonly [OBJECT_REF] = true;

  /** @param counted the head already counts this process as a holder (its own submit or put). */
  constructor(id: string, counted = false) {
    this.id = id;
    (globalThis as TrackerSlot)[TRACKER]?.created(this, counted);
  }

  /** Readable form for logs. */
  toString(): string {
    return `ObjectRef(${this.id})`;
  }

  /** Same as `toString`, so `console.log(ref)` is readable. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** True for ObjectRef instances, including those made by another copy of this module. */
export function isObjectRef(v: unknown): v is ObjectRef {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[OBJECT_REF] === true;
}
