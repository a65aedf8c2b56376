/**
 * A binary min-heap. The scheduler keeps lazily-invalidated heaps of nodes per scheduling
 * class so that picking a node costs O(log nodes) instead of a scan over the cluster.
 */

/** Binary min-heap ordered by `less`. */
export class MinHeap<T> {
  private items: T[];

  /** Builds a heap from `items` (taken over, not copied) in O(n). */
  constructor(
    private readonly less: (a: T, b: T) => boolean,
    items: T[] = [],
  ) {
    this.items = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** Number of entries, stale ones included. */
  get size(): number {
    return this.items.length;
  }

  /** The smallest entry, or undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds an entry in O(log n). */
  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  /** Removes and returns the smallest entry in O(log n). */
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const items = this.items;
    const item = items[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(item, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.less(items[child + 1]!, items[child]!)) child++;
      if (!this.less(items[child]!, item)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = item;
  }
}
