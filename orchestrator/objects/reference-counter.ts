/**
 * Reference counting of objects (Ray's reference counting, centralised in the head). An object
 * stays alive while anything can still reach it:
 * - holders: processes (a driver, a worker) that hold at least one ObjectRef to it;
 * - submitted: pending tasks that take it as an argument (top-level or nested), until they end;
 * - nested: other live objects whose value contains a ref to it.
 * The counter is pure bookkeeping: callers report changes and get back the ids that became
 * unreachable, which they free.
 */

/** The counts of one object, as the State API shows them. */
export interface RefCounts {
  /** Processes holding refs (`driver:<jobId>`, `<nodeId>/<workerId>`). */
  readonly holders: readonly string[];
  /** Pending tasks using it as an argument. */
  readonly submitted: number;
  /** Live objects containing a ref to it. */
  readonly nested: number;
}

interface Counts {
  /** Holding processes: most objects have one, so a lone holder is kept without a Set. */
  holders: string | Set<string> | undefined;
  submitted: number;
  nested: number;
  /** Only objects that were referenced once can become unreferenced (actor creations never are). */
  everHeld: boolean;
  /** Refs inside this object's value: released when it is freed. */
  contains: readonly string[] | undefined;
}

function holderList(h: Counts['holders']): string[] {
  return h === undefined ? [] : typeof h === 'string' ? [h] : [...h];
}

/** Removes `holder`; false if it was not one. */
function dropHolder(c: Counts, holder: string): boolean {
  const h = c.holders;
  if (h === holder) {
    c.holders = undefined;
    return true;
  }
  if (typeof h !== 'object' || !h.delete(holder)) return false;
  if (h.size === 0) c.holders = undefined;
  return true;
}

/** Tracks who can reach each object. */
export class ReferenceCounter {
  private readonly refs = new Map<string, Counts>();

  private counts(id: string): Counts {
    let c = this.refs.get(id);
    if (!c)
      this.refs.set(id, (c = { holders: undefined, submitted: 0, nested: 0, everHeld: false, contains: undefined }));
    return c;
  }

  /** `holder` holds a ref to `id` (idempotent). */
  hold(id: string, holder: string): void {
    const c = this.counts(id);
    c.everHeld = true;
    const h = c.holders;
    if (h === undefined) c.holders = holder;
    else if (h === holder || (typeof h === 'object' && h.has(holder))) return;
    else if (typeof h === 'string') c.holders = new Set([h, holder]);
    else h.add(holder);
  }

  /** `holder` dropped its last ref to `id`; returns the ids that became unreachable. */
  release(id: string, holder: string): string[] {
    const c = this.refs.get(id);
    if (!c || !dropHolder(c, holder)) return [];
    return this.check(id, []);
  }

  /**
   * A process ended (a driver shut down, a worker or node died): it holds nothing any more.
   * With `prefix`, every holder whose name starts so ends (all workers of a dead node). Scans
   * every object: processes end rarely, and no per-holder index has to be kept on each hold.
   */
  releaseHolder(holder: string, prefix = false): string[] {
    const freed: string[] = [];
    for (const [id, c] of this.refs) {
      const h = c.holders;
      if (h === undefined) continue;
      if (typeof h === 'string') {
        if (prefix ? h.startsWith(holder) : h === holder) {
          c.holders = undefined;
          this.check(id, freed);
        }
        continue;
      }
      for (const x of h) if (prefix ? x.startsWith(holder) : x === holder) h.delete(x);
      if (h.size === 0) {
        c.holders = undefined;
        this.check(id, freed);
      }
    }
    return freed;
  }

  /** A pending task uses these objects as arguments. */
  addSubmitted(ids: readonly string[]): void {
    for (const id of ids) {
      const c = this.counts(id);
      c.everHeld = true;
      c.submitted++;
    }
  }

  /** A task using these objects ended; returns the ids that became unreachable. */
  removeSubmitted(ids: readonly string[]): string[] {
    const freed: string[] = [];
    for (const id of ids) {
      const c = this.refs.get(id);
      if (!c || c.submitted === 0) continue;
      c.submitted--;
      this.check(id, freed);
    }
    return freed;
  }

  /** Object `container` holds refs to `ids` inside its value, for as long as it lives. */
  setContained(container: string, ids: readonly string[]): void {
    const c = this.counts(container);
    if (c.contains || ids.length === 0) return;
    c.contains = ids;
    for (const id of ids) {
      const n = this.counts(id);
      n.everHeld = true;
      n.nested++;
    }
  }

  /** The refs inside an object's value (for borrowers that deserialize it). */
  containedIn(id: string): readonly string[] {
    return this.refs.get(id)?.contains ?? [];
  }

  /** True while anything can reach the object (or it was never referenced at all). */
  isReachable(id: string): boolean {
    const c = this.refs.get(id);
    return !c?.everHeld || c.holders !== undefined || c.submitted > 0 || c.nested > 0;
  }

  /** The counts of an object for the State API. */
  countsOf(id: string): RefCounts {
    const c = this.refs.get(id);
    return { holders: holderList(c?.holders), submitted: c?.submitted ?? 0, nested: c?.nested ?? 0 };
  }

  /** Forgets a freed object; its contained refs are released (returns the ids that became unreachable). */
  forget(id: string): string[] {
    const c = this.refs.get(id);
    if (!c) return [];
    this.refs.delete(id);
    const freed: string[] = [];
    for (const n of c.contains ?? []) {
      const nc = this.refs.get(n);
      if (!nc || nc.nested === 0) continue;
      nc.nested--;
      this.check(n, freed);
    }
    return freed;
  }

  /** True once anything referenced the object (objects nobody ever referenced are left alone). */
  tracked(id: string): boolean {
    return this.refs.get(id)?.everHeld === true;
  }

  /** Number of objects tracked (for tests and the State API). */
  get size(): number {
    return this.refs.size;
  }

  private check(id: string, freed: string[]): string[] {
    if (!this.isReachable(id)) freed.push(id);
    return freed;
  }
}
