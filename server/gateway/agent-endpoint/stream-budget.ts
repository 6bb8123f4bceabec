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
    private readonly now: () => number = Date.now,
  ) {
    this.windowStartMs = now();
  }

  /** Counts one strike; true once the stream is over its budget. */
  strike(): boolean {
    const t = this.now();
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
