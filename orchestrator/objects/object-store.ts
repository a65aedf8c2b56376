/**
 * The head's object directory and in-memory store: every object's state (pending, ready,
 * failed), its serialized value, and who waits for it.
 */
import type { ErrorInfo } from '../core/errors.ts';
import type { Payload } from '../core/serialization.ts';
import type { ObjectResult } from '../protocol/messages.ts';

/** Where an object is in its life. */
export type ObjectState =
  /** Its task has not finished. */
  | 'PENDING'
  /** Its value is stored. */
  | 'READY'
  /** Its task failed; `get` raises the error. */
  | 'FAILED';

interface Entry {
  state: ObjectState;
  result?: ObjectResult;
  /** `put` objects are owned by their caller and not reconstructable. */
  readonly fromPut: boolean;
  readonly createdAt: number;
  waiters?: (() => void)[];
}

/** Small values arrive as views into a larger receive buffer; copy them so the buffer can be freed. */
const COPY_BELOW = 64 * 1024;

function own(p: Payload): Payload {
  const d = p.data;
  if (d.byteLength < COPY_BELOW && d.buffer.byteLength > d.byteLength * 2) return { ...p, data: d.slice() };
  return p;
}

/** The object table. */
export class ObjectStore {
  private readonly entries = new Map<string, Entry>();

  /** Registers the result object of a submitted task. */
  createPending(id: string): void {
    if (!this.entries.has(id)) this.entries.set(id, { state: 'PENDING', fromPut: false, createdAt: Date.now() });
  }

  /** Stores a `put` value. */
  put(id: string, payload: Payload): void {
    this.entries.set(id, { state: 'READY', result: { ok: true, payload: own(payload) }, fromPut: true, createdAt: Date.now() });
  }

  /** Completes an object with its value. */
  resolve(id: string, payload: Payload): void {
    this.settle(id, 'READY', { ok: true, payload: own(payload) });
  }

  /** Completes an object with an error. */
  fail(id: string, error: ErrorInfo): void {
    this.settle(id, 'FAILED', { ok: false, error });
  }

  /** True if the object exists in this cluster (pending or done). */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** True once the object is ready or failed. */
  isDone(id: string): boolean {
    const e = this.entries.get(id);
    return e !== undefined && e.state !== 'PENDING';
  }

  /** The result of a done object (undefined while pending or unknown). */
  result(id: string): ObjectResult | undefined {
    return this.entries.get(id)?.result;
  }

  /** Calls `cb` once the object is done (at once if it is). Unknown ids never call back. */
  whenDone(id: string, cb: () => void): void {
    const e = this.entries.get(id);
    if (!e) return;
    if (e.state !== 'PENDING') {
      cb();
      return;
    }
    (e.waiters ??= []).push(cb);
  }

  /** Removes a waiter registered with whenDone (on timeout). */
  unwatch(id: string, cb: () => void): void {
    const w = this.entries.get(id)?.waiters;
    if (!w) return;
    const i = w.indexOf(cb);
    if (i >= 0) w.splice(i, 1);
  }

  /** Rows for the State API. */
  *rows(): Iterable<Record<string, unknown>> {
    for (const [id, e] of this.entries) {
      yield {
        objectId: id,
        state: e.state,
        type: e.fromPut ? 'PUT' : 'TASK_RESULT',
        sizeBytes: e.result?.ok ? e.result.payload.data.byteLength : 0,
        createdAt: e.createdAt,
      };
    }
  }

  private settle(id: string, state: ObjectState, result: ObjectResult): void {
    const e = this.entries.get(id) ?? { state: 'PENDING' as ObjectState, fromPut: false, createdAt: Date.now() };
    if (e.state !== 'PENDING') return;
    e.state = state;
    e.result = result;
    this.entries.set(id, e);
    const waiters = e.waiters;
    e.waiters = undefined;
    if (waiters) for (const w of waiters) w();
  }
}
