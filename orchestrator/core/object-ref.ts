/**
 * `ObjectRef`: a future for a value produced by a task or `put`. Deliberately not thenable,
 * so async code can return refs without their being resolved.
 */

/** Brand that marks ObjectRef instances across copies of this module. */
export const OBJECT_REF = Symbol.for('orrery.ObjectRef');

/** A reference to an object in the cluster (a task's result or a `put` value). */
export class ObjectRef<T = unknown> {
  /** Stable hex id of the object. */
  readonly id: string;
  declare readonly __type?: T;
  readonly [OBJECT_REF] = true;

  constructor(id: string) {
    this.id = id;
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
