/**
 * Values travel as v8-serialized bytes (typed arrays, Map, Set, Date, BigInt...). ObjectRefs and
 * actor handles nested inside a value are swapped for small marker objects before serializing
 * and revived after, so they stay refs on the other side (Ray's nested-ref semantics). Secret
 * references (`secret(name)`) become markers too, and only where the caller collects them (task
 * arguments): the worker revives them into the values the head sent with the run.
 */
import { constants } from 'node:buffer';
import { serialize, deserialize } from 'node:v8';
import { isObjectRef, ObjectRef } from './object-ref.ts';
import { isSecretRef, SECRET_KEY, SecretRef } from './secret-ref.ts';
import { mapFile } from './shm-map.ts';

/** Brand that marks actor handles; its value is the handle's serializable descriptor. */
export const ACTOR_HANDLE = Symbol.for('orrery.ActorHandle');

/** What an actor handle looks like on the wire. */
export interface ActorDescriptor {
  readonly actorId: string;
  readonly className: string;
  readonly methods: readonly string[];
  readonly asyncMethods: boolean;
}

/** A serialized value. `marked` says refs/handles inside need reviving. */
export interface Payload {
  readonly data: Uint8Array;
  readonly marked: boolean;
  /** Set when `data` is the raw bytes of a top-level typed array of this kind (no v8 framing). */
  readonly typed?: TypedArrayName;
  /** Set when the bytes are in a shared-memory file instead of `data` (core/shared-memory.ts); `data` is then empty. */
  readonly shm?: ShmRef;
}

/** Where a payload's bytes are when they are in shared memory. */
export interface ShmRef {
  /** The file, in a head's or agent's shared-memory folder. */
  readonly path: string;
  readonly bytes: number;
}

const TYPED = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;

/** Typed array kinds that travel as raw bytes. */
export type TypedArrayName = keyof typeof TYPED;

function typedName(v: unknown): TypedArrayName | undefined {
  if (!ArrayBuffer.isView(v) || v instanceof DataView) return undefined;
  const name = (Object.getPrototypeOf(v) as { constructor: { name: string } }).constructor.name;
  if (name in TYPED) return name as TypedArrayName;
  return Buffer.isBuffer(v) ? 'Uint8Array' : undefined;
}

const REF_KEY = '__orrery_ref__';
const ACTOR_KEY = '__orrery_actor__';

/** Hooks that turn markers back into live objects on the receiving side. */
export interface Reviver {
  actor(desc: ActorDescriptor): unknown;
  /** What a nested ref becomes; without it, an ObjectRef (which the ref tracker counts as held). */
  ref?(id: string): unknown;
  /** What a secret reference becomes (its value, in the task it was passed to); without it, a SecretRef. */
  secret?(name: string): unknown;
}

/** Options of {@link serializeValue}. */
export interface SerializeOptions {
  /** Copy a top-level typed array's bytes (default true: the caller keeps the array). */
  readonly copy?: boolean;
  /** Collects the names of secret references inside the value; without it a secret reference is refused. */
  readonly secrets?: string[];
}

/**
 * Serializes a value. `nestedRefs` collects ids of refs found inside it.
 * Throws a TypeError naming `what` when the value cannot be cloned, or holds a secret reference
 * where none may go (`opts.secrets` not given).
 */
export function serializeValue(
  value: unknown,
  what: string,
  nestedRefs?: string[],
  opts: SerializeOptions = {},
): Payload {
  const typed = typedName(value);
  if (typed) {
    // A top-level typed array (the usual large value) travels as its raw bytes: one copy for
    // snapshot semantics where the caller keeps the array, none where it hands it over.
    const v = value as ArrayBufferView;
    checkSize(v.byteLength, what);
    const view = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return { data: opts.copy === false ? view : view.slice(), marked: false, typed };
  }
  const found: Found = { any: false, refs: nestedRefs, secrets: opts.secrets, what };
  const marked = markValue(value, found, new Map());
  try {
    const data = serialize(marked);
    checkSize(data.byteLength, what);
    return { data, marked: found.any };
  } catch (err) {
    if (err instanceof ValueTooLargeError) throw err;
    throw new TypeError(
      `${what} cannot be sent to another process: ${(err as Error).message}. ` +
        'Pass structured-cloneable data (numbers, strings, plain objects, arrays, typed arrays, Map, Set, Date, BigInt) instead of functions, class instances with methods, or sockets.',
    );
  }
}

/**
 * The largest value that moves between processes: what one message frame holds (a Buffer's
 * limit: 4 GiB on Node 20), less room for the message around it.
 */
export const MAX_VALUE_BYTES = constants.MAX_LENGTH - 1024 * 1024;

/** A value larger than {@link MAX_VALUE_BYTES}: refused where it is made, before anything is sent. */
export class ValueTooLargeError extends RangeError {
  constructor(
    readonly what: string,
    readonly bytes: number,
  ) {
    super(
      `${what} is ${gib(bytes)} GiB, more than the ${gib(MAX_VALUE_BYTES)} GiB a value may be to move between processes ` +
        '(one Node Buffer). Split it into parts, each its own put() or task result, or write it to a file the tasks read.',
    );
    this.name = 'ValueTooLargeError';
  }
}

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(2);
}

function checkSize(bytes: number, what: string): void {
  if (bytes > MAX_VALUE_BYTES) throw new ValueTooLargeError(what, bytes);
}

/**
 * Deserializes a payload, reviving refs and actor handles. A typed array is returned as a view
 * of the payload's bytes when they are aligned and `copy` is false (the payload is not shared).
 */
export function deserializeValue(p: Payload, reviver: Reviver, opts: { copy: boolean } = { copy: true }): unknown {
  // A shared-memory value is mapped copy-on-write (or read into a fresh buffer): private to this reader already.
  const fresh = p.shm !== undefined;
  const data = p.shm ? mappedBytes(p.shm) : p.data;
  if (p.typed) {
    const C = TYPED[p.typed];
    const d = data;
    const aligned = d.byteOffset % C.BYTES_PER_ELEMENT === 0;
    const bytes = (opts.copy && !fresh) || !aligned ? d.slice() : d;
    return new C(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / C.BYTES_PER_ELEMENT);
  }
  const v = deserialize(data);
  return p.marked ? reviveValue(v, reviver, new Map()) : v;
}

/** The bytes of a shared-memory value, as a view of its mapped (or read) file. */
export function mappedBytes(ref: ShmRef): Uint8Array {
  return new Uint8Array(mapFile(ref.path));
}

function actorDescriptor(v: object): ActorDescriptor | undefined {
  return (v as Record<symbol, ActorDescriptor | undefined>)[ACTOR_HANDLE];
}

/** What marking found: whether anything needs reviving, and where refs and secret names are collected. */
interface Found {
  any: boolean;
  readonly refs?: string[];
  readonly secrets?: string[];
  readonly what: string;
}

function markValue(v: unknown, found: Found, seen: Map<object, unknown>): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp) return v;
  if (isObjectRef(v)) {
    found.any = true;
    found.refs?.push(v.id);
    return { [REF_KEY]: v.id };
  }
  if (isSecretRef(v)) {
    if (!found.secrets) {
      throw new TypeError(
        `${found.what} holds ${v.toString()}: a secret can only be an argument of a task (a remote function, command or circuit call), ` +
          'whose head reads it from the keychain when the task runs; it cannot be stored with put(), returned by a task, or passed to an actor.',
      );
    }
    found.any = true;
    found.secrets.push(v.name);
    return { [SECRET_KEY]: v.name };
  }
  const desc = actorDescriptor(v);
  if (desc) {
    found.any = true;
    return { [ACTOR_KEY]: desc };
  }
  if (seen.has(v)) return seen.get(v);
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    seen.set(v, v);
    for (let i = 0; i < v.length; i++) {
      const m = markValue(v[i], found, seen);
      if (m !== v[i] && !out) {
        out = v.slice(0, i);
        seen.set(v, out);
      }
      if (out) out[i] = m;
    }
    return out ?? v;
  }
  if (v instanceof Map) {
    let changed = false;
    const entries: [unknown, unknown][] = [];
    for (const [k, val] of v) {
      const mk = markValue(k, found, seen);
      const mv = markValue(val, found, seen);
      if (mk !== k || mv !== val) changed = true;
      entries.push([mk, mv]);
    }
    return changed ? new Map(entries) : v;
  }
  if (v instanceof Set) {
    const items = [...v].map((x) => markValue(x, found, seen));
    return items.some((x, i) => x !== [...v][i]) ? new Set(items) : v;
  }
  if (v instanceof Error) return v;
  let out: Record<string, unknown> | undefined;
  seen.set(v, v);
  const keys = Object.keys(v);
  for (const k of keys) {
    const val = (v as Record<string, unknown>)[k];
    const m = markValue(val, found, seen);
    if (m !== val && !out) {
      out = {};
      for (const k2 of keys) out[k2] = (v as Record<string, unknown>)[k2];
      seen.set(v, out);
    }
    if (out) out[k] = m;
  }
  return out ?? v;
}

function reviveValue(v: unknown, reviver: Reviver, seen: Map<object, unknown>): unknown {
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return v;
  if (seen.has(v)) return seen.get(v);
  seen.set(v, v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = reviveValue(v[i], reviver, seen);
    return v;
  }
  if (v instanceof Map) {
    const entries = [...v].map(([k, val]) => [reviveValue(k, reviver, seen), reviveValue(val, reviver, seen)] as const);
    v.clear();
    for (const [k, val] of entries) v.set(k, val);
    return v;
  }
  if (v instanceof Set) {
    const items = [...v].map((x) => reviveValue(x, reviver, seen));
    v.clear();
    for (const x of items) v.add(x);
    return v;
  }
  const rec = v as Record<string, unknown>;
  if (typeof rec[REF_KEY] === 'string' && Object.keys(rec).length === 1)
    return reviver.ref ? reviver.ref(rec[REF_KEY] as string) : new ObjectRef(rec[REF_KEY] as string);
  if (rec[ACTOR_KEY] && Object.keys(rec).length === 1) return reviver.actor(rec[ACTOR_KEY] as ActorDescriptor);
  if (typeof rec[SECRET_KEY] === 'string' && Object.keys(rec).length === 1) {
    const name = rec[SECRET_KEY] as string;
    return reviver.secret ? reviver.secret(name) : new SecretRef(name);
  }
  for (const k of Object.keys(rec)) rec[k] = reviveValue(rec[k], reviver, seen);
  return v;
}
