/** What the scheduler needs of a worker. */
export interface DumpTarget {
  id: string;
  /** Dashboard views watching it now. */
  watchers: number;
  /** When its next dump is due; 0 = now. */
  nextDumpAtMs: number;
}

export interface DumpBudgetOptions {
  /** Cadence for every worker (default 10 s). */
  intervalMs: number;
  /** Cadence for a watched worker (the live view's, 1-5 s). */
  watchedIntervalMs: number;
  /** The budget never drops below this many dumps per second. */
  minPerSecond: number;
  /** Nor rises above this: diagnostics must never become the outage. */
  maxPerSecond: number;
}

/**
 * Which workers get a status request now. The budget follows the fleet:
 * what every worker at its cadence needs (watched ones at the live view's),
 * with 25% headroom, between `minPerSecond` and `maxPerSecond`. Watched
 * workers are served first; then the most overdue. When the ceiling binds,
 * everyone's interval stretches evenly instead of some workers starving (the
 * old fixed 50/s cap stretched everyone to N/50 s, 100 s at 5,000 workers).
 */
export class DumpBudget {
  private tokens = 0;
  /** The last budget computed, per second (for tests, the bench and /metrics). */
  perSecond = 0;
  /** What the fleet asked for at the last pick, headroom included, before the ceiling. */
  demandPerSecond = 0;

  constructor(private readonly opts: DumpBudgetOptions) {}

  pick<T extends DumpTarget>(targets: readonly T[], nowMs: number, elapsedMs: number): T[] {
    let watched = 0;
    for (const t of targets) if (t.watchers > 0) watched += 1;
    const demand =
      (watched * 1000) / this.opts.watchedIntervalMs +
      ((targets.length - watched) * 1000) / this.opts.intervalMs;
    this.demandPerSecond = demand * 1.25;
    this.perSecond = Math.min(
      this.opts.maxPerSecond,
      Math.max(this.opts.minPerSecond, this.demandPerSecond),
    );
    // Tokens carry over for at most one second, so an idle spell cannot build a burst.
    this.tokens = Math.min(this.perSecond, this.tokens + (this.perSecond * elapsedMs) / 1000);

    const due: T[] = [];
    for (const t of targets) if (nowMs >= t.nextDumpAtMs) due.push(t);
    due.sort((a, b) => b.watchers - a.watchers || a.nextDumpAtMs - b.nextDumpAtMs);
    const picked: T[] = [];
    for (const t of due) {
      if (this.tokens < 1) break;
      this.tokens -= 1;
      t.nextDumpAtMs =
        nowMs + (t.watchers > 0 ? this.opts.watchedIntervalMs : this.opts.intervalMs);
      picked.push(t);
    }
    return picked;
  }
}
