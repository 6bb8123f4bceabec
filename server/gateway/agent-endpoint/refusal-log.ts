import type { Logger } from "../../shared/logging/logger.js";

/**
 * Logs refusals without letting a flood of them flood the log: the first
 * `perWindow` per reason in each window are logged one by one, the rest are
 * summed into one line when the window ends. A log line is a synchronous
 * write to stdout; thousands of them from one hostile client would block
 * the event loop (and every heartbeat) on a slow log reader.
 */
export class RefusalLog {
  private readonly counts = new Map<string, number>();
  private windowTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly perWindow = 10,
    private readonly windowMs = 10_000,
    private readonly summary = "more agent refusals than logged one by one",
  ) {}

  /**
   * Logs (or counts) one refusal; true when it was logged one by one (the
   * caller may then also record an event, which is throttled the same way).
   */
  refused(reason: string, fields: Record<string, unknown>, message: string): boolean {
    const n = (this.counts.get(reason) ?? 0) + 1;
    this.counts.set(reason, n);
    this.windowTimer ??= setTimeout(() => this.flush(), this.windowMs).unref();
    if (n > this.perWindow) return false;
    this.log.warn({ ...fields, reason }, message);
    return true;
  }

  /** Writes the summary of what was suppressed and starts a new window. */
  flush(): void {
    clearTimeout(this.windowTimer);
    this.windowTimer = undefined;
    for (const [reason, n] of this.counts) {
      if (n > this.perWindow)
        this.log.warn(
          { reason, suppressed: n - this.perWindow, total: n, windowMs: this.windowMs },
          this.summary,
        );
    }
    this.counts.clear();
  }
}
