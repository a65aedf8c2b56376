/**
 * The node's object store: values its workers made that were too large to travel inline
 * (task results and puts above INLINE_VALUE_MAX). The head knows where they are and pulls them
 * on demand; workers of this node read them without a round trip through the head.
 */
import type { Payload } from '../core/serialization.ts';

/** How long a pull waits for a value still on its way from a worker (it is sent just before the head hears of it). */
const ARRIVAL_WAIT_MS = 10_000;

/** Values held by this node. */
export class NodeObjects {
  private readonly values = new Map<string, Payload>();
  private readonly waiting = new Map<string, ((p: Payload | undefined) => void)[]>();
  /** Bytes held now. */
  usedBytes = 0;

  /** Keeps a value. */
  store(id: string, p: Payload): void {
    if (this.values.has(id)) return;
    this.values.set(id, p);
    this.usedBytes += p.data.byteLength;
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    for (const cb of w) cb(p);
  }

  /** A value, waiting up to `waitMs` for one not yet arrived (undefined when it does not come). */
  get(id: string, waitMs = ARRIVAL_WAIT_MS): Promise<Payload | undefined> {
    const p = this.values.get(id);
    if (p || waitMs <= 0) return Promise.resolve(p);
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

  /** Drops freed objects' values. */
  free(ids: readonly string[]): void {
    for (const id of ids) {
      const p = this.values.get(id);
      if (!p) continue;
      this.values.delete(id);
      this.usedBytes -= p.data.byteLength;
    }
  }

  /** Number of values held. */
  get size(): number {
    return this.values.size;
  }
}
