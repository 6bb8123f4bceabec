import type { Clock } from "../clock.js";

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A {@link Clock} that moves only when a test says so. `advance(ms)` runs every
 * timer that falls due, in time order, letting promise callbacks settle
 * between them, so code that awaits between timers behaves as with real time.
 */
export class FakeClock implements Clock {
  private nowMs: number;
  private seq = 0;
  private timers: Pending[] = [];

  constructor(startMs = 1_000_000) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.nowMs + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers not yet run. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, running what falls due; settles promises before and after. */
  async advance(ms: number): Promise<void> {
    const until = this.nowMs + ms;
    await flush();
    for (;;) {
      const next = this.timers
        .filter((t) => t.at <= until)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.nowMs = Math.max(this.nowMs, next.at);
      next.fn();
      await flush();
    }
    this.nowMs = until;
    await flush();
  }
}

/** Lets every queued promise callback run (a few macrotask turns deep). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
