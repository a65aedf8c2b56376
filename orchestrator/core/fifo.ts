/** A FIFO with O(1) push and shift: a million queued tasks must not make every shift O(n). */

/** FIFO queue backed by an array and a head index, compacted as it drains. */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private size = 0;

  /** Number of queued items. */
  get length(): number {
    return this.size;
  }

  /** Adds an item at the back. */
  push(item: T): void {
    this.items.push(item);
    this.size++;
  }

  /** The item at the front, left in place. */
  peek(): T | undefined {
    for (let i = this.head; i < this.items.length; i++) if (this.items[i] !== undefined) return this.items[i];
    return undefined;
  }

  /** Removes and returns the item at the front. */
  shift(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      this.items[this.head++] = undefined;
      if (item !== undefined) {
        this.size--;
        this.compact();
        return item;
      }
    }
    return undefined;
  }

  /** Removes the first item matching `pred` (cancellation); returns it, or undefined. */
  removeWhere(pred: (item: T) => boolean): T | undefined {
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i];
      if (item !== undefined && pred(item)) {
        this.items[i] = undefined;
        this.size--;
        while (this.head < this.items.length && this.items[this.head] === undefined) this.head++;
        this.compact();
        return item;
      }
    }
    return undefined;
  }

  /** Removes and returns every item, in order. */
  drain(): T[] {
    const out = this.items.slice(this.head).filter((t): t is T => t !== undefined);
    this.items = [];
    this.head = 0;
    this.size = 0;
    return out;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
