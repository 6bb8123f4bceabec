import type { Clock } from "../clock/clock.js";

/**
 * A single-consumer async queue with a hard cap. When a slow consumer lets it
 * fill up, the queue drops everything and reports `overflowed`, so the
 * producer can replace the backlog with one fresh full state instead of
 * buffering without bound.
 */
export class BoundedQueue<T> {
  private items: T[] = [];
  private waiter: (() => void) | undefined;
  overflowed = false;

  constructor(
    private readonly capacity: number,
    private readonly clock: Clock,
  ) {}

  push(item: T): void {
    if (this.items.length >= this.capacity) {
      this.items = [];
      this.overflowed = true;
    } else {
      this.items.push(item);
    }
    this.wake();
  }

  /**
   * Takes everything queued, waiting up to `maxWaitMs` for something to
   * arrive. Resolves `undefined` once `signal` has aborted.
   */
  async takeAll(signal: AbortSignal, maxWaitMs: number): Promise<T[] | undefined> {
    // maxWaitMs <= 0 only takes what is there: no timer, whatever the clock.
    if (maxWaitMs > 0 && this.items.length === 0 && !this.overflowed && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = this.clock.after(maxWaitMs, done);
        function done() {
          timer.cancel();
          signal.removeEventListener("abort", done);
          resolve();
        }
        this.waiter = done;
        signal.addEventListener("abort", done, { once: true });
      });
      this.waiter = undefined;
    }
    if (signal.aborted) return undefined;
    const items = this.items;
    this.items = [];
    return items;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
