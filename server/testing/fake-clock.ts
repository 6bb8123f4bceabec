import type { Clock, Timer } from "../shared/clock/clock.js";

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  everyMs?: number;
  cancelled: boolean;
}

/**
 * A clock that only moves when the test says so. `advance` runs every timer
 * due on the way, in time order, and lets promise callbacks settle after each
 * one, so async code that awaits a timer sees the same order it would in
 * real time.
 */
export class FakeClock implements Clock {
  private current: number;
  private readonly origin: number;
  private seq = 0;
  private readonly timers: Pending[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
    this.origin = startMs;
  }

  now(): number {
    return this.current;
  }

  /** Moves with `now`: a fake clock never steps, so one timeline serves both. */
  monotonic(): number {
    return this.current - this.origin;
  }

  after(ms: number, fn: () => void): Timer {
    return this.schedule(ms, fn, undefined);
  }

  every(ms: number, fn: () => void): Timer {
    return this.schedule(ms, fn, Math.max(1, ms));
  }

  /** Timers not yet run or cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, running what falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await flush();
      const next = this.nextDue(target);
      if (!next) break;
      this.current = Math.max(this.current, next.at);
      if (next.everyMs !== undefined) next.at += next.everyMs;
      else next.cancelled = true;
      next.fn();
    }
    this.current = target;
    await flush();
  }

  private schedule(ms: number, fn: () => void, everyMs: number | undefined): Timer {
    const pending: Pending = {
      at: this.current + Math.max(0, ms),
      seq: this.seq++,
      fn,
      cancelled: false,
      ...(everyMs !== undefined ? { everyMs } : {}),
    };
    this.timers.push(pending);
    return {
      cancel: () => {
        pending.cancelled = true;
      },
    };
  }

  private nextDue(limit: number): Pending | undefined {
    let best: Pending | undefined;
    for (let i = this.timers.length - 1; i >= 0; i--) {
      const t = this.timers[i];
      if (t === undefined) continue;
      if (t.cancelled) {
        this.timers.splice(i, 1);
        continue;
      }
      if (t.at > limit) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/**
 * Lets what the last timer set off run to its next wait: promise callbacks,
 * and a few event-loop turns for real I/O on the way (a SQLite commit, a
 * local socket), which a fake clock does not control.
 */
export async function flush(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) {
    for (let i = 0; i < 20; i++) await Promise.resolve();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
