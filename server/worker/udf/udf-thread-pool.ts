import type { Clock } from "../../shared/clock/clock.js";
import { UdfThreadHandle } from "./udf-thread-handle.js";

/**
 * Warm UDF threads. Starting a worker thread (and loading Arrow in it) costs
 * tens of milliseconds; a session takes a warm thread and gives it back when
 * it ended cleanly. A thread that was cancelled, terminated or is still busy
 * is never reused: it is terminated instead, so no session inherits another's
 * stuck user code.
 */
export class UdfThreadPool {
  private readonly idle: UdfThreadHandle[] = [];
  private closed = false;

  constructor(
    private readonly maxIdle = 4,
    warm = 2,
    private readonly clock: Clock,
  ) {
    for (let i = 0; i < Math.min(warm, maxIdle); i++)
      this.idle.push(new UdfThreadHandle("udf (idle)", clock));
  }

  acquire(name: string): UdfThreadHandle {
    const handle = this.idle.pop();
    if (handle) {
      handle.resetForReuse(name);
      return handle;
    }
    return new UdfThreadHandle(name, this.clock);
  }

  /** Returns a thread after its session; keeps it only if it is fit to reuse. */
  async release(handle: UdfThreadHandle): Promise<void> {
    if (!this.closed && handle.reusable && this.idle.length < this.maxIdle) {
      handle.resetForReuse("udf (idle)");
      this.idle.push(handle);
      return;
    }
    await handle.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.idle.splice(0).map((h) => h.terminate()));
  }
}
