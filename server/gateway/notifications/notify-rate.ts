import type { Clock } from "../../shared/clock/clock.js";

/**
 * A token bucket of `perMinute` messages, refilled continuously, full at
 * start: a burst of incidents gets its first messages out at once, a storm
 * is cut to the rate (drops are counted by the caller).
 */
export class NotifyRate {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly clock: Clock,
  ) {
    this.tokens = perMinute;
    this.lastMs = clock.monotonic();
  }

  take(): boolean {
    const now = this.clock.monotonic();
    this.tokens = Math.min(
      this.perMinute,
      this.tokens + ((now - this.lastMs) * this.perMinute) / 60_000,
    );
    this.lastMs = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
