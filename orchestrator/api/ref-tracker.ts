/**
 * The process side of reference counting: counts live ObjectRef instances per object id and
 * tells the head, in batches, when this process starts holding an object (first instance) and
 * when it holds it no more (its last instance was garbage collected, seen through a
 * FinalizationRegistry). The head frees objects nobody holds.
 */
import { installRefTracker, type ObjectRef, type RefTrackerHook } from '../core/object-ref.ts';

/** How long changes gather before they go to the head (ms). */
const BATCH_MS = 50;

/** Counts this process's refs and reports holds and releases. */
export class RefTracker implements RefTrackerHook {
  private readonly live = new Map<string, number>();
  private readonly changed = new Set<string>();
  private readonly registry = new FinalizationRegistry<string>((id) => this.collected(id));
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly report: (hold: string[], release: string[]) => void) {}

  /** Starts tracking: every ObjectRef made from now on in this process is counted. */
  install(): this {
    installRefTracker(this);
    return this;
  }

  created(ref: ObjectRef, counted: boolean): void {
    if (this.closed) return;
    const n = this.live.get(ref.id) ?? 0;
    this.live.set(ref.id, n + 1);
    this.registry.register(ref, ref.id);
    // A ref from this process's own submit or put is already counted by the head: no hold to send.
    if (n === 0 && !counted) this.mark(ref.id);
  }

  /** Number of distinct objects this process holds refs to. */
  get held(): number {
    return this.live.size;
  }

  /** The objects this process holds refs to (told to a head it reconnects to). */
  heldIds(): string[] {
    return [...this.live.keys()];
  }

  /** Whether this process still holds a ref to `id`. */
  holds(id: string): boolean {
    return this.live.has(id);
  }

  /** Sends pending changes now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || this.changed.size === 0) return;
    const hold: string[] = [];
    const release: string[] = [];
    for (const id of this.changed) (this.live.has(id) ? hold : release).push(id);
    this.changed.clear();
    this.report(hold, release);
  }

  /** Stops tracking (the runtime ended; the head drops this process's refs itself). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.changed.clear();
    this.live.clear();
    installRefTracker(undefined);
  }

  private collected(id: string): void {
    if (this.closed) return;
    const n = this.live.get(id);
    if (!n) return;
    if (n > 1) {
      this.live.set(id, n - 1);
      return;
    }
    this.live.delete(id);
    this.mark(id);
  }

  private mark(id: string): void {
    this.changed.add(id);
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), BATCH_MS);
    this.timer.unref();
  }
}
