import type { Clock } from "../../shared/clock/clock.js";

/**
 * Strikes against one stream within a sliding-enough window (reset when a
 * window has passed): more than `limit` strikes in `windowMs` and the stream
 * is over budget. Used for answers nobody asked for and for reports far
 * larger than what was asked.
 */
export class StreamBudget {
  private strikes = 0;
  private windowStartMs: number;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Pick<Clock, "monotonic">,
  ) {
    this.windowStartMs = clock.monotonic();
  }

  /** Counts one strike; true once the stream is over its budget. */
  strike(): boolean {
    const t = this.clock.monotonic();
    if (t - this.windowStartMs > this.windowMs) {
      this.windowStartMs = t;
      this.strikes = 0;
    }
    this.strikes += 1;
    return this.strikes > this.limit;
  }

  get count(): number {
    return this.strikes;
  }
}
