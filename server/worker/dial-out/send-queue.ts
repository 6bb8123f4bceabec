/**
 * The outgoing side of one stream: a single-consumer queue with a hard cap on
 * what it holds, so a gateway that stops reading (HTTP/2 flow control holds
 * our writes) costs bounded memory. When full, the oldest *droppable* item
 * goes first (a status report: the gateway's request times out and it asks
 * again); only when nothing is droppable does the oldest item of any kind go.
 * Every drop is returned to the caller, which logs it.
 */
export class SendQueue<T> {
  private items: T[] = [];
  private waiter: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly capacity: number,
    private readonly droppable: (item: T) => boolean,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** True once `close()` was called: pushes are refused. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues `item`; returns what was dropped to make room, if anything. */
  push(item: T): T | undefined {
    if (this.closed) return item;
    let dropped: T | undefined;
    if (this.items.length >= this.capacity) {
      const at = this.items.findIndex(this.droppable);
      dropped = this.items.splice(Math.max(0, at), 1)[0];
    }
    this.items.push(item);
    this.wake();
    return dropped;
  }

  /**
   * Waits for at least one item and takes everything queued. Resolves
   * `undefined` once `signal` aborts or the queue is closed.
   */
  async take(signal: AbortSignal): Promise<T[] | undefined> {
    while (this.items.length === 0 && !this.closed && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          this.waiter = undefined;
          resolve();
        };
        this.waiter = done;
        signal.addEventListener("abort", done, { once: true });
      });
    }
    if (this.closed || signal.aborted) return undefined;
    const items = this.items;
    this.items = [];
    return items;
  }

  /** Drops everything and wakes the consumer; later pushes are refused. */
  close(): void {
    this.closed = true;
    this.items = [];
    this.wake();
  }

  private wake(): void {
    this.waiter?.();
  }
}
