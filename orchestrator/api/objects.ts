/** `put`, `get`, `wait` and `cancel`. */
import { fromErrorInfo, GetTimeoutError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { isObjectRef, ObjectRef } from '../core/object-ref.ts';
import { deserializeValue, serializeValue, type Payload, type Reviver } from '../core/serialization.ts';
import { SHM_MIN_BYTES, type ShmFolder } from '../core/shared-memory.ts';
import type { ObjectResult } from '../protocol/messages.ts';
import { actorHandle } from './actor.ts';
import { currentRuntime } from './runtime.ts';

/** Revives actor handles found inside values. */
export const reviver: Reviver = { actor: (desc) => actorHandle(desc) };

/** Stores a value in the object store; the caller owns it. Synchronous. */
export function put<T>(value: T): ObjectRef<T> {
  const rt = currentRuntime();
  if (isObjectRef(value))
    throw new TypeError('put(value): value is already an ObjectRef; pass the ref itself where it is needed');
  const id = newId();
  const nestedRefs: string[] = [];
  const payload = sharedPayload(rt.shm, value, nestedRefs);
  rt.post({ op: 'put', id, payload, nestedRefs: nestedRefs.length > 0 ? nestedRefs : undefined });
  return new ObjectRef<T>(id, true);
}

/**
 * A put's payload: with the head's shared-memory folder at hand, a large value is written into
 * it (its one copy: the caller keeps its array, readers map the file), else serialized (copied).
 */
function sharedPayload(shm: ShmFolder | undefined, value: unknown, nestedRefs: string[]): Payload {
  if (!shm) return serializeValue(value, 'put(value)', nestedRefs);
  const p = serializeValue(value, 'put(value)', nestedRefs, { copy: false });
  const written = p.data.byteLength >= SHM_MIN_BYTES ? shm.write(p.data, p) : undefined;
  // Without the file the store keeps the bytes: a typed array is copied (the caller keeps its array).
  return written ?? (p.typed ? { ...p, data: p.data.slice() } : p);
}

function checkRefs(refs: readonly unknown[], what: string): string[] {
  return refs.map((r, i) => {
    if (!isObjectRef(r))
      throw new TypeError(
        `${what}: item ${i} is not an ObjectRef (got ${typeof r}); pass refs returned by .remote() or put()`,
      );
    return r.id;
  });
}

function checkTimeout(what: string, t: unknown): number | undefined {
  if (t === undefined) return undefined;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0)
    throw new TypeError(`${what}: option timeoutMs must be a finite number >= 0 (got ${String(t)})`);
  return t;
}

/** Turns a result into its value, or throws the task's error. */
function resultValue(r: ObjectResult, copy: boolean): unknown {
  if (!r.ok) throw fromErrorInfo(r.error);
  return deserializeValue(r.payload, reviver, { copy });
}

/** Waits for one ref's value, or every value of a list of refs (in order). */
export async function get<T>(ref: ObjectRef<T>, opts?: { timeoutMs?: number }): Promise<T>;
export async function get<T>(refs: readonly ObjectRef<T>[], opts?: { timeoutMs?: number }): Promise<T[]>;
export async function get(refs: ObjectRef | readonly ObjectRef[], opts: { timeoutMs?: number } = {}): Promise<unknown> {
  const single = !Array.isArray(refs);
  const ids = checkRefs(single ? [refs] : (refs as readonly ObjectRef[]), 'get()');
  const timeoutMs = checkTimeout('get()', opts.timeoutMs);
  const rt = currentRuntime();
  // The caller's refs must outlive the wait: collected meanwhile, they would release the objects,
  // and a value named by a shared-memory file could be freed before it is mapped here.
  inGet.add(refs);
  try {
    const results = await rt.call({ op: 'get', ids, timeoutMs });
    if (!Array.isArray(results)) throw new GetTimeoutError(timeoutMs ?? 0, results.timedOut);
    const copy = rt.sharedPayloads;
    return single ? resultValue(results[0]!, copy) : results.map((r) => resultValue(r, copy));
  } finally {
    inGet.delete(refs);
  }
}

/** The refs of `get` calls under way (kept reachable until their values are read). */
const inGet = new Set<ObjectRef | readonly ObjectRef[]>();

/** Waits until `numReturns` of `refs` are ready (a failed task's ref counts as ready). */
export async function wait<T>(
  refs: readonly ObjectRef<T>[],
  opts: { numReturns?: number; timeoutMs?: number; fetchLocal?: boolean } = {},
): Promise<{ ready: ObjectRef<T>[]; notReady: ObjectRef<T>[] }> {
  if (!Array.isArray(refs)) throw new TypeError('wait(refs): refs must be an array of ObjectRefs');
  const ids = checkRefs(refs, 'wait()');
  if (new Set(ids).size !== ids.length) throw new TypeError('wait(refs): refs contains duplicates; pass each ref once');
  if (ids.length === 0) return { ready: [], notReady: [] };
  const numReturns = opts.numReturns ?? 1;
  if (!Number.isInteger(numReturns) || numReturns < 0)
    throw new TypeError(`wait(): option numReturns must be an integer >= 0 (got ${String(opts.numReturns)})`);
  if (numReturns > ids.length)
    throw new TypeError(`wait(): numReturns (${numReturns}) is larger than the number of refs (${ids.length})`);
  const timeoutMs = checkTimeout('wait()', opts.timeoutMs);
  const readyIds = new Set(await currentRuntime().call({ op: 'wait', ids, numReturns, timeoutMs }));
  const ready: ObjectRef<T>[] = [];
  const notReady: ObjectRef<T>[] = [];
  for (const r of refs) (readyIds.has(r.id) && ready.length < numReturns ? ready : notReady).push(r);
  return { ready, notReady };
}

/**
 * Cancels the task that produces `ref` (and, unless `recursive: false`, the tasks it submitted);
 * its ref fails with TaskCancelledError. A pending task never runs; a finished one is left
 * alone. A running task's `context.signal` aborts and its ref fails at once; if it has not
 * returned within `graceMs` (default 5000) its worker is killed and replaced, freeing its
 * resources. Actor methods are only signalled, never killed (the actor's state survives).
 * `force: true` kills a running task's worker at once.
 */
export async function cancel(
  ref: ObjectRef,
  opts: { force?: boolean; recursive?: boolean; graceMs?: number } = {},
): Promise<void> {
  if (!isObjectRef(ref)) throw new TypeError('cancel(ref): ref must be an ObjectRef returned by .remote()');
  const g = opts.graceMs;
  if (g !== undefined && (typeof g !== 'number' || !Number.isFinite(g) || g < 0))
    throw new TypeError(`cancel(): option graceMs must be a finite number >= 0 (got ${String(g)})`);
  await currentRuntime().call({
    op: 'cancel',
    id: ref.id,
    force: opts.force ?? false,
    recursive: opts.recursive ?? true,
    graceMs: g,
  });
}
