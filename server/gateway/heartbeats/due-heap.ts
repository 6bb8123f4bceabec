/**
 * A binary min-heap of items by due time. Items are never removed from the
 * middle: the owner marks them stale and skips them when they surface, which
 * keeps rescheduling O(log n) with no index bookkeeping.
 */
export class DueHeap<T> {
  private readonly due: number[] = [];
  private readonly items: T[] = [];

  get size(): number {
    return this.due.length;
  }

  /** Due time of the earliest item, or Infinity. */
  peekDue(): number {
    return this.due[0] ?? Infinity;
  }

  push(dueAt: number, item: T): void {
    let i = this.due.length;
    this.due.push(dueAt);
    this.items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.due[parent] ?? 0) <= dueAt) break;
      this.move(parent, i);
      i = parent;
    }
    this.due[i] = dueAt;
    this.items[i] = item;
  }

  /** Removes and returns the earliest item with its due time. */
  pop(): { dueAt: number; item: T } | undefined {
    const top = this.items[0];
    const topDue = this.due[0];
    if (top === undefined || topDue === undefined) return undefined;
    const lastDue = this.due.pop() ?? 0;
    const lastItem = this.items.pop() as T;
    const n = this.due.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && (this.due[right] ?? 0) < (this.due[left] ?? 0) ? right : left;
        if ((this.due[child] ?? 0) >= lastDue) break;
        this.move(child, i);
        i = child;
      }
      this.due[i] = lastDue;
      this.items[i] = lastItem;
    }
    return { dueAt: topDue, item: top };
  }

  clear(): void {
    this.due.length = 0;
    this.items.length = 0;
  }

  private move(from: number, to: number): void {
    this.due[to] = this.due[from] ?? 0;
    this.items[to] = this.items[from] as T;
  }
}
