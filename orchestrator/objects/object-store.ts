/**
 * The head's object directory and store: every object's state, where its value lives (the
 * head's memory, a spill file, or the node that made it), who can still reach it, and who
 * waits for it. Unreachable objects are freed; past the memory threshold the least recently
 * used values are spilled to disk; a value whose only copy was on a dead node is LOST until
 * lineage reconstruction (ObjectStoreIO.reconstruct) makes it again or fails it.
 */
import { OwnerDiedError, toErrorInfo, type ErrorInfo } from '../core/errors.ts';
import type { Payload, TypedArrayName } from '../core/serialization.ts';
import type { ObjectResult } from '../protocol/messages.ts';
import type { ObjectRow, ObjectState } from '../protocol/state-rows.ts';
import {
  inlinePayload,
  payloadBytes,
  removeShmFile,
  removeSpilledShmFile,
  type ShmFolder,
} from '../core/shared-memory.ts';
import { ReferenceCounter } from './reference-counter.ts';
import { defaultStoreBudget, SPILL_THRESHOLD, SpillStore, type SpilledValue } from './spill-store.ts';

/** Values smaller than this stay in memory: spilling them would cost more than it frees. */
const MIN_SPILL_BYTES = 16 * 1024;
/** Small values arrive as views into a larger receive buffer; copy them so the buffer can be freed. */
const COPY_BELOW = 64 * 1024;

interface Entry {
  state: ObjectState;
  error?: ErrorInfo;
  /** The value's bytes in the head's memory. */
  payload?: Payload;
  /** The value's bytes on disk. */
  spilled?: SpilledValue;
  /** The node holding the value (large task results and worker puts stay where they were made). */
  nodeId?: string;
  /** Kind of a value held elsewhere (its bytes are fetched on demand). */
  meta?: { readonly marked: boolean; readonly typed?: TypedArrayName; readonly sizeBytes: number };
  /** `put` objects are owned by their caller and not reconstructable. */
  readonly fromPut: boolean;
  /** The job that owns it (its driver made it, directly or through its tasks). */
  readonly owner: string;
  readonly createdAt: number;
  /** Argument objects held until this (task result) object settles. */
  args?: readonly string[];
  /** Nobody can reach it any more: free it as soon as its task ends. */
  freeOnSettle?: boolean;
  waiters?: (() => void)[];
}

/** Store settings. */
export interface ObjectStoreOptions {
  /** Bytes of values the head keeps in memory before it spills (default: 30% of RAM). */
  readonly memoryBytes?: number;
  /** Folder for spill files. */
  readonly spillDir: string;
  /**
   * The head's shared-memory folder: values in it are counted like values in memory and spilled
   * past the budget; a value pulled from a node sharing memory gets a link here (no copy).
   */
  readonly shm?: ShmFolder;
}

/** What the store asks of the rest of the head: the nodes that hold values, and lineage. */
export interface ObjectStoreIO {
  /** Fetches a value from the node holding it (undefined: the node no longer has it). */
  pull(nodeId: string, id: string): Promise<Payload | undefined>;
  /** Tells a node to drop values it holds for freed objects. */
  freeOnNode(nodeId: string, ids: readonly string[]): void;
  /** Lineage reconstruction: called once when someone waits for a LOST object (objects/lineage.ts). */
  reconstruct(id: string): void;
}

/** Where a value came from, for `resolve` and `put`. */
export interface StoredFrom {
  /** The value stays on this node; the payload passed carries only its kind. */
  readonly nodeId?: string;
  readonly sizeBytes?: number;
  /** Ids of refs inside the value (they stay alive while it does). */
  readonly nestedRefs?: readonly string[];
}

function own(p: Payload): Payload {
  if (p.shm) return p;
  const d = p.data;
  if (d.byteLength < COPY_BELOW && d.buffer.byteLength > d.byteLength * 2) return { ...p, data: d.slice() };
  return p;
}

/** The object table. */
export class ObjectStore {
  private readonly entries = new Map<string, Entry>();
  /** Entries with spillable bytes (at least MIN_SPILL_BYTES) in memory, least recently used first. */
  private readonly lru = new Map<string, Entry>();
  readonly refs = new ReferenceCounter();
  readonly spill: SpillStore;
  readonly memoryBytes: number;
  /** Bytes of values in the head's memory (its shared-memory folder included) now. */
  usedBytes = 0;
  private readonly shm: ShmFolder | undefined;

  constructor(
    opts: ObjectStoreOptions,
    private readonly io: ObjectStoreIO,
  ) {
    this.memoryBytes = opts.memoryBytes ?? defaultStoreBudget();
    this.spill = new SpillStore(opts.spillDir);
    this.shm = opts.shm;
  }

  /** Registers the result object of a submitted task; `args` stay alive until it settles. */
  createPending(id: string, owner = '', args?: readonly string[]): void {
    if (this.entries.has(id)) return;
    this.entries.set(id, { state: 'PENDING', fromPut: false, owner, createdAt: Date.now(), args });
    if (args?.length) this.refs.addSubmitted(args);
  }

  /** A lost task result is being rebuilt: pending again, holding its arguments again. */
  rebuilding(id: string, args: readonly string[]): void {
    const e = this.entries.get(id);
    if (!e || (e.state !== 'LOST' && e.state !== 'READY')) return;
    this.dropValue(e, id);
    e.state = 'PENDING';
    e.nodeId = undefined;
    e.meta = undefined;
    e.args = args;
    if (args.length) this.refs.addSubmitted(args);
  }

  /** Re-creates the entry of a freed task result that a reconstruction needs again (it is LOST until rebuilt). */
  recreateLost(id: string, owner: string): void {
    if (!this.entries.has(id)) this.entries.set(id, { state: 'LOST', fromPut: false, owner, createdAt: Date.now() });
  }

  /** Stores a `put` value (`from.nodeId`: the bytes stayed on that node). */
  put(id: string, payload: Payload, owner = '', holder?: string, from: StoredFrom = {}): void {
    const e: Entry = { state: 'READY', fromPut: true, owner, createdAt: Date.now() };
    this.entries.set(id, e);
    if (holder) this.refs.hold(id, holder);
    this.setValue(e, id, payload, from);
  }

  /** Completes an object with its value. */
  resolve(id: string, payload: Payload, from: StoredFrom = {}): void {
    const e = this.entries.get(id);
    if (e?.state !== 'PENDING') return;
    e.state = 'READY';
    this.setValue(e, id, payload, from);
    this.settled(id, e);
  }

  /** Completes an object with an error. */
  fail(id: string, error: ErrorInfo): void {
    const e = this.entries.get(id);
    if (!e || (e.state !== 'PENDING' && e.state !== 'LOST')) return;
    e.state = 'FAILED';
    e.error = error;
    this.settled(id, e);
  }

  /** True if the object exists in this cluster (pending, done or lost). */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** True once the object is ready or failed. */
  isDone(id: string): boolean {
    const s = this.entries.get(id)?.state;
    return s === 'READY' || s === 'FAILED';
  }

  /** Where an object is in its life; undefined once freed (or never made here). */
  stateOf(id: string): ObjectState | undefined {
    return this.entries.get(id)?.state;
  }

  /** True for `put` objects. */
  isPut(id: string): boolean {
    return this.entries.get(id)?.fromPut === true;
  }

  /** The node a value lives on, if it stayed on the node that made it. */
  /**
   * The node holding `id` when only nodes have its value (no copy or spill here) and it holds no
   * refs: a worker on another node may then fetch it from there itself.
   */
  heldOnlyBy(id: string): string | undefined {
    const e = this.entries.get(id);
    if (e?.state !== 'READY' || !e.nodeId || e.payload || e.spilled) return undefined;
    return this.refs.containedIn(id).length === 0 ? e.nodeId : undefined;
  }

  locationOf(id: string): { nodeId: string; sizeBytes: number } | undefined {
    const e = this.entries.get(id);
    return e?.nodeId && e.state === 'READY' ? { nodeId: e.nodeId, sizeBytes: e.meta?.sizeBytes ?? 0 } : undefined;
  }

  /**
   * The result of a done object whose value the head has (in memory or spilled; read back
   * at once). Undefined while pending or lost, and for values held only by a node.
   */
  result(id: string): ObjectResult | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.state === 'FAILED') return { ok: false, error: e.error! };
    if (e.state !== 'READY') return undefined;
    const p = this.local(e, id);
    return p ? { ok: true, payload: p } : undefined;
  }

  /**
   * The results of done objects, fetching values held by nodes and waiting out the rebuild of
   * lost ones. `holder` deserializes them, so it holds the refs inside them from now on.
   */
  async results(ids: readonly string[], holder?: string): Promise<ObjectResult[]> {
    let out: ObjectResult[] | undefined = [];
    for (const id of ids) {
      const r = this.result(id);
      if (!r) {
        out = undefined;
        break;
      }
      out.push(r);
    }
    out ??= await Promise.all(ids.map((id) => this.fetch(id)));
    if (holder)
      for (const id of ids)
        for (const n of this.refs.containedIn(id)) if (this.entries.has(n)) this.refs.hold(n, holder);
    return out;
  }

  private async fetch(id: string): Promise<ObjectResult> {
    for (;;) {
      const e = this.entries.get(id);
      if (!e)
        return { ok: false, error: toErrorInfo(new Error(`object ${id} was freed: nothing referenced it any more`)) };
      if (e.state === 'FAILED') return { ok: false, error: e.error! };
      if (e.state === 'READY') {
        const p = this.local(e, id);
        if (p) return { ok: true, payload: p };
        const from = e.nodeId;
        const p2 = from ? await this.pullOwned(from, id) : undefined;
        if (p2 && this.entries.get(id) === e && e.state === 'READY') {
          // Another reader's pull kept its copy meanwhile, and may have named its file to a
          // process that has not mapped it yet: that copy stays, this one goes.
          if (e.payload) {
            if (p2.shm?.path !== e.payload.shm?.path) removeShmFile(p2);
            return { ok: true, payload: e.payload };
          }
          this.keep(e, id, p2);
          return { ok: true, payload: p2 };
        }
        // A node with a copy took over while the pull failed: pull from it instead.
        if (from && e.nodeId && e.nodeId !== from) continue;
        if (this.entries.get(id) === e && e.state === 'READY' && !e.payload && !e.spilled) e.state = 'LOST';
      }
      await new Promise<void>((r) => this.whenDone(id, r));
    }
  }

  /**
   * A node's value as the head keeps it: a shared-memory file gets the head's own link (the node
   * may spill or free its name at any time), or is read in where the head has no such folder.
   * A file gone before it was linked (the node spilled it meanwhile) is pulled once more.
   */
  private async pullOwned(nodeId: string, id: string): Promise<Payload | undefined> {
    for (let tries = 0; ; tries++) {
      const p = await this.io.pull(nodeId, id);
      if (!p?.shm) return p;
      try {
        const owned = this.shm ? this.shm.adopt(p) : inlinePayload(p);
        if (owned) return owned;
      } catch {
        // Gone before it could be read: pulled again below.
      }
      if (tries > 0) return undefined;
    }
  }

  /** Calls `cb` once the object is done (at once if it is); waiting for a LOST object starts its rebuild. */
  whenDone(id: string, cb: () => void): void {
    const e = this.entries.get(id);
    if (!e) return;
    if (e.state === 'READY' || e.state === 'FAILED') {
      cb();
      return;
    }
    (e.waiters ??= []).push(cb);
    if (e.state === 'LOST') this.io.reconstruct(id);
  }

  /** Removes a waiter registered with whenDone (on timeout). */
  unwatch(id: string, cb: () => void): void {
    const w = this.entries.get(id)?.waiters;
    if (!w) return;
    const i = w.indexOf(cb);
    if (i >= 0) w.splice(i, 1);
  }

  /** `holder` holds a ref (a driver or worker made or received one). */
  hold(id: string, holder: string): void {
    if (this.entries.has(id)) this.refs.hold(id, holder);
  }

  /** `holder` dropped its last ref to `id`. */
  release(id: string, holder: string): void {
    this.free(this.refs.release(id, holder));
  }

  /** A process ended: drops every ref it held (`prefix`: every process whose name starts so). */
  releaseHolder(holder: string, prefix = false): void {
    this.free(this.refs.releaseHolder(holder, prefix));
  }

  /**
   * A node died: values whose only copy it held are lost. `copyOf` names a live node holding a
   * copy another node fetched directly (objects/transfer-routes.ts): the value lives on there.
   */
  nodeDied(nodeId: string, copyOf?: (id: string) => string | undefined): void {
    for (const [id, e] of this.entries) {
      if (e.nodeId !== nodeId) continue;
      e.nodeId = e.state === 'READY' ? copyOf?.(id) : undefined;
      if (e.nodeId) continue;
      if (e.state === 'READY' && !e.payload && !e.spilled) e.state = 'LOST';
    }
  }

  /**
   * A driver's job ended: its refs are dropped, and objects it owned that others still reach
   * fail with OwnerDiedError (Ray frees an owner's objects with it).
   */
  ownerDied(jobId: string, holder: string): void {
    this.releaseHolder(holder);
    for (const [id, e] of this.entries) {
      if (e.owner !== jobId || (e.state !== 'READY' && e.state !== 'LOST') || !this.refs.tracked(id)) continue;
      this.dropValue(e, id);
      e.state = 'FAILED';
      e.error = toErrorInfo(new OwnerDiedError(id, `driver of job ${jobId} (it called shutdown() or exited)`));
    }
  }

  /** Rows for the State API (with reference counts). */
  *rows(): Iterable<ObjectRow> {
    for (const [id, e] of this.entries) {
      const c = this.refs.countsOf(id);
      yield {
        objectId: id,
        state: e.state,
        type: e.fromPut ? 'PUT' : 'TASK_RESULT',
        sizeBytes: (e.payload && payloadBytes(e.payload)) ?? e.spilled?.sizeBytes ?? e.meta?.sizeBytes ?? 0,
        location: e.payload ? 'HEAD_MEMORY' : e.spilled ? 'SPILLED' : e.nodeId ? 'NODE' : 'NONE',
        nodeId: e.nodeId ?? '',
        // The head adds copies and byte counts (objects/transfer-routes.ts).
        locations: e.nodeId ?? '',
        directBytes: 0,
        directMs: 0,
        relayBytes: 0,
        spillPath: e.spilled?.path ?? '',
        refCount: c.holders.length + c.submitted + c.nested,
        holders: c.holders.join(','),
        submittedTaskCount: c.submitted,
        nestedCount: c.nested,
        ownerJobId: e.owner,
        createdAt: e.createdAt,
      };
    }
  }

  /** Removes spill files (head shutdown). */
  close(): void {
    this.spill.close();
  }

  private setValue(e: Entry, id: string, payload: Payload, from: StoredFrom): void {
    if (from.nodeId) {
      e.nodeId = from.nodeId;
      e.meta = { marked: payload.marked, typed: payload.typed, sizeBytes: from.sizeBytes ?? 0 };
    } else this.keep(e, id, own(payload));
    if (from.nestedRefs?.length) this.refs.setContained(id, from.nestedRefs);
  }

  /** The value's bytes if the head has them (reading a spilled value back into memory). */
  private local(e: Entry, id: string): Payload | undefined {
    if (e.payload) {
      if (payloadBytes(e.payload) >= MIN_SPILL_BYTES) {
        this.lru.delete(id);
        this.lru.set(id, e);
      }
      return e.payload;
    }
    if (!e.spilled) return undefined;
    const p = this.spill.restore(e.spilled);
    this.keep(e, id, p);
    return p;
  }

  private keep(e: Entry, id: string, p: Payload): void {
    if (e.payload) {
      this.usedBytes -= payloadBytes(e.payload);
      this.lru.delete(id);
      if (e.payload.shm !== p.shm) removeShmFile(e.payload);
    }
    e.payload = p;
    this.usedBytes += payloadBytes(p);
    if (payloadBytes(p) >= MIN_SPILL_BYTES) this.lru.set(id, e);
    if (this.usedBytes > this.memoryBytes * SPILL_THRESHOLD) this.evict();
  }

  /** Spills (or, for copies of node-held values, just drops) least recently used values. */
  private evict(): void {
    const target = this.memoryBytes * SPILL_THRESHOLD;
    for (const [id, e] of this.lru) {
      if (this.usedBytes <= target) break;
      const p = e.payload!;
      if (!e.spilled && !e.nodeId) e.spilled = this.spill.spill(id, p);
      // Readers that mapped the file keep their mapping; later readers get the spilled bytes.
      removeSpilledShmFile(p);
      e.payload = undefined;
      this.usedBytes -= payloadBytes(p);
      this.lru.delete(id);
    }
  }

  private dropValue(e: Entry, id: string): void {
    if (e.payload) {
      this.usedBytes -= payloadBytes(e.payload);
      removeShmFile(e.payload);
      e.payload = undefined;
      this.lru.delete(id);
    }
    if (e.spilled) {
      this.spill.remove(e.spilled);
      e.spilled = undefined;
    }
    if (e.nodeId) this.io.freeOnNode(e.nodeId, [id]);
  }

  private settled(id: string, e: Entry): void {
    const args = e.args;
    e.args = undefined;
    const waiters = e.waiters;
    e.waiters = undefined;
    if (waiters) for (const w of waiters) w();
    if (args?.length) this.free(this.refs.removeSubmitted(args));
    if (e.freeOnSettle) this.free([id]);
  }

  /** Frees unreachable objects, and what only they reached. */
  private free(ids: readonly string[]): void {
    const queue = [...ids];
    while (queue.length > 0) {
      const id = queue.pop()!;
      const e = this.entries.get(id);
      if (e && (e.state === 'PENDING' || e.waiters?.length)) {
        e.freeOnSettle = true;
        continue;
      }
      if (this.refs.isReachable(id) && e) continue;
      // A failed object keeps its small error record (the task table outlives it too), so a ref
      // made later from its id, e.g. from the State API, still raises the task's error.
      if (e && e.state !== 'FAILED') {
        this.dropValue(e, id);
        this.entries.delete(id);
      }
      queue.push(...this.refs.forget(id));
    }
  }
}
