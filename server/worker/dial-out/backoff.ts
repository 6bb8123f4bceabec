/** Reconnect pacing; every field optional (defaults: 250 ms → 10 s, ±20%). */
export interface BackoffOptions {
  /** First wait after a failure. */
  initialMs?: number;
  /** Longest wait; reached by doubling. */
  maxMs?: number;
  /** Fraction each wait varies by, either way (0.2 = ±20%). */
  jitter?: number;
}

/**
 * Jittered exponential backoff: `initialMs`, doubling up to `maxMs`, each wait
 * varied by ±`jitter` so a fleet that lost its gateway together does not
 * return in lockstep. `reset()` after a connection has proven itself.
 */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = Math.max(1, opts.initialMs ?? 250);
    this.maxMs = Math.max(this.initialMs, opts.maxMs ?? 10_000);
    this.jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.2));
  }

  /** The next wait in milliseconds. */
  next(): number {
    // Capping the exponent keeps 2 ** attempt finite however long the outage.
    const exact = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(exact * (1 - this.jitter + Math.random() * 2 * this.jitter));
  }

  reset(): void {
    this.attempt = 0;
  }
}
