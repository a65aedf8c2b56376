/**
 * The node's object store: values its workers made that were too large to travel inline
 * (task results and puts above INLINE_VALUE_MAX). The head knows where they are and pulls them
 * on demand; workers of this node read them without a round trip through the head. Past 80%
 * of the node's budget the least recently used values are spilled to this node's disk (without
 * blocking the agent) and read back from there when asked for.
 */
import type { Payload } from '../core/serialization.ts';
import { payloadBytes, removeShmFile, removeSpilledShmFile } from '../core/shared-memory.ts';
import { UnsafeRuntimeDirError } from '../core/errors.ts';
import { defaultStoreBudget, SPILL_THRESHOLD, SpillStore, type SpilledValue } from '../objects/spill-store.ts';

/** How long a pull waits for a value still on its way from a worker (it is sent just before the head hears of it). */
const ARRIVAL_WAIT_MS = 10_000;

interface Held {
  /** The bytes in memory (kept while a spill of them is being written). */
  payload?: Payload;
  spilled?: SpilledValue;
  readonly sizeBytes: number;
}

/** Budget and spill folder of a node's store. */
export interface NodeObjectsOptions {
  /** Bytes of values kept in memory before spilling (default: 30% of the machine's RAM). */
  readonly memoryBytes?: number;
  readonly spillDir: string;
  /** Told once when spilling fails (the values stay in memory). */
  readonly log?: (line: string) => void;
}

/** Values held by this node. */
export class NodeObjects {
  private readonly values = new Map<string, Held>();
  /** Values with bytes in memory and no spill under way, least recently used first. */
  private readonly lru = new Map<string, Held>();
  private readonly waiting = new Map<string, ((p: Payload | undefined) => void)[]>();
  readonly spill: SpillStore;
  readonly memoryBytes: number;
  /** Bytes in memory now. */
  usedBytes = 0;
  /** Bytes whose spill is being written (still in memory until it is). */
  private spillingBytes = 0;
  private spillFailed = false;

  constructor(private readonly opts: NodeObjectsOptions) {
    this.memoryBytes = opts.memoryBytes ?? defaultStoreBudget();
    this.spill = new SpillStore(opts.spillDir);
  }

  /** Keeps a value. */
  store(id: string, p: Payload): void {
    if (this.values.has(id)) return;
    const h: Held = { payload: p, sizeBytes: payloadBytes(p) };
    this.values.set(id, h);
    this.lru.set(id, h);
    this.usedBytes += h.sizeBytes;
    const w = this.waiting.get(id);
    if (w) {
      this.waiting.delete(id);
      for (const cb of w) cb(p);
    }
    this.spillIfFull();
  }

  /** A value, waiting up to `waitMs` for one not yet arrived (undefined when it does not come or cannot be read back). */
  get(id: string, waitMs = ARRIVAL_WAIT_MS): Promise<Payload | undefined> {
    const h = this.values.get(id);
    if (h?.payload) {
      if (this.lru.delete(id)) this.lru.set(id, h);
      return Promise.resolve(h.payload);
    }
    if (h?.spilled) return this.spill.restoreAsync(h.spilled).catch(() => undefined);
    if (h || waitMs <= 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const w = this.waiting.get(id);
        const i = w?.indexOf(done) ?? -1;
        if (i >= 0) w!.splice(i, 1);
        if (w?.length === 0) this.waiting.delete(id);
        resolve(undefined);
      }, waitMs);
      timer.unref();
      const done = (v: Payload | undefined) => {
        clearTimeout(timer);
        resolve(v);
      };
      const w = this.waiting.get(id);
      if (w) w.push(done);
      else this.waiting.set(id, [done]);
    });
  }

  /** Drops freed objects' values (and their spill files). */
  free(ids: readonly string[]): void {
    for (const id of ids) {
      const h = this.values.get(id);
      if (!h) continue;
      this.values.delete(id);
      this.lru.delete(id);
      if (h.payload) this.usedBytes -= h.sizeBytes;
      // Nothing reaches a freed object any more, so no reader can still be told its file: it goes now.
      if (h.payload) removeShmFile(h.payload);
      h.payload = undefined;
      if (h.spilled) this.spill.remove(h.spilled);
    }
  }

  /** Number of values held (in memory or spilled). */
  get size(): number {
    return this.values.size;
  }

  /** Removes the spill folder (agent exit). */
  close(): void {
    this.spill.close();
  }

  /** Starts spilling least recently used values until what stays in memory is under the threshold. */
  private spillIfFull(): void {
    const target = this.memoryBytes * SPILL_THRESHOLD;
    for (const [id, h] of this.lru) {
      if (this.usedBytes - this.spillingBytes <= target) break;
      this.lru.delete(id);
      this.spillingBytes += h.sizeBytes;
      void this.spill.spillAsync(id, h.payload!).then(
        (s) => this.spilled(id, h, s),
        (err: Error) => {
          const remedy =
            err instanceof UnsafeRuntimeDirError ? '' : ' Free disk space there or raise objectStoreMemory.';
          if (!this.spillFailed)
            this.opts.log?.(
              `orrery: cannot spill objects to ${this.spill.dir} (${err.message}); they stay in memory.${remedy}`,
            );
          this.spillFailed = true;
          this.spilled(id, h, undefined);
        },
      );
    }
  }

  /** A spill finished (`s` undefined: it failed, and the value stays in memory). */
  private spilled(id: string, h: Held, s: SpilledValue | undefined): void {
    this.spillingBytes -= h.sizeBytes;
    if (this.values.get(id) !== h) {
      // Freed while being written.
      if (s) this.spill.remove(s);
      return;
    }
    if (!s) {
      this.lru.set(id, h);
      return;
    }
    h.spilled = s;
    removeSpilledShmFile(h.payload!);
    h.payload = undefined;
    this.usedBytes -= h.sizeBytes;
  }
}
