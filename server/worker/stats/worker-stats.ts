import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import type { Clock } from "../../shared/clock/clock.js";

/**
 * Worker-global counters reported on every `Manage(Heartbeat)`. The metric
 * names are ours to choose (the protocol leaves them to the worker); they are
 * documented in the README and stay stable because dashboards chart them.
 */
export class WorkerStats {
  readonly startedAtMs: number;
  activeSessions = 0;
  sessionsStarted = 0;
  sessionsFinished = 0;
  sessionsCancelled = 0;
  sessionsFailed = 0;
  rowsIn = 0;
  rowsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  private readonly loopDelay: IntervalHistogram;

  constructor(private readonly clock: Clock) {
    this.startedAtMs = clock.now();
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
  }

  /** The `HeartbeatResponse.metrics` map; all values are decimal strings. */
  heartbeatMetrics(now = this.clock.now()): Record<string, string> {
    const mem = process.memoryUsage();
    const metrics: Record<string, string> = {
      uptime_ms: String(now - this.startedAtMs),
      active_sessions: String(this.activeSessions),
      sessions_started: String(this.sessionsStarted),
      sessions_finished: String(this.sessionsFinished),
      sessions_cancelled: String(this.sessionsCancelled),
      sessions_failed: String(this.sessionsFailed),
      rows_in: String(this.rowsIn),
      rows_out: String(this.rowsOut),
      bytes_in: String(this.bytesIn),
      bytes_out: String(this.bytesOut),
      rss_bytes: String(mem.rss),
      heap_used_bytes: String(mem.heapUsed),
      event_loop_delay_p99_ms: (this.loopDelay.percentile(99) / 1e6).toFixed(3),
    };
    // A fresh window per heartbeat, so the figure says "since the last beat".
    this.loopDelay.reset();
    return metrics;
  }

  close(): void {
    this.loopDelay.disable();
  }
}
