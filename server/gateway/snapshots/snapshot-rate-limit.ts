import type { Clock } from "../../shared/clock/clock.js";
/** Why a snapshot was refused: the caller's own budget, or the gateway's. */
export type RateScope = "caller" | "overall";

export type RateDecision = { ok: true } | { ok: false; scope: RateScope; retryAfterMs: number };

export interface SnapshotRateLimitOptions {
  /** Snapshots one caller may create per minute (also its burst). */
  perCallerPerMinute: number;
  /** Snapshots everyone together may create per minute. */
  totalPerMinute: number;
  /** Callers remembered at once; beyond it, full (idle) buckets are dropped first. */
  maxCallers?: number;
  clock: Pick<Clock, "monotonic">;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/**
 * Token buckets for `CreateSnapshot`: each snapshot stores the whole fleet
 * (hundreds of KiB) for 30 days, so one caller must not be able to fill the
 * disk, and a flood from one caller must not use up everyone else's budget.
 * A caller's bucket is checked before the shared one, so a refused flood
 * spends nothing of the shared budget. Memory is bounded by `maxCallers`.
 */
export class SnapshotRateLimit {
  private readonly callers = new Map<string, Bucket>();
  private readonly overall: Bucket;
  private readonly now: () => number;
  private readonly maxCallers: number;

  constructor(readonly opts: SnapshotRateLimitOptions) {
    this.now = () => opts.clock.monotonic();
    this.maxCallers = opts.maxCallers ?? 10_000;
    this.overall = { tokens: opts.totalPerMinute, atMs: this.now() };
  }

  /** Takes one snapshot from `key`'s budget and the shared one, or says why not. */
  take(key: string): RateDecision {
    const now = this.now();
    let bucket = this.callers.get(key);
    if (!bucket) {
      this.makeRoom(now);
      bucket = { tokens: this.opts.perCallerPerMinute, atMs: now };
      this.callers.set(key, bucket);
    }
    refill(bucket, this.opts.perCallerPerMinute, now);
    refill(this.overall, this.opts.totalPerMinute, now);
    if (bucket.tokens < 1) {
      return {
        ok: false,
        scope: "caller",
        retryAfterMs: waitMs(bucket, this.opts.perCallerPerMinute),
      };
    }
    if (this.overall.tokens < 1) {
      return {
        ok: false,
        scope: "overall",
        retryAfterMs: waitMs(this.overall, this.opts.totalPerMinute),
      };
    }
    bucket.tokens -= 1;
    this.overall.tokens -= 1;
    return { ok: true };
  }

  private makeRoom(now: number): void {
    if (this.callers.size < this.maxCallers) return;
    for (const [key, bucket] of this.callers) {
      refill(bucket, this.opts.perCallerPerMinute, now);
      if (bucket.tokens >= this.opts.perCallerPerMinute) this.callers.delete(key);
    }
    // Still full: forget the oldest. Its owner at worst gets a fresh budget;
    // the shared bucket still bounds the total.
    while (this.callers.size >= this.maxCallers) {
      const oldest = this.callers.keys().next().value;
      if (oldest === undefined) break;
      this.callers.delete(oldest);
    }
  }
}

function refill(bucket: Bucket, perMinute: number, now: number): void {
  const elapsed = Math.max(0, now - bucket.atMs);
  bucket.tokens = Math.min(perMinute, bucket.tokens + (elapsed * perMinute) / 60_000);
  bucket.atMs = now;
}

function waitMs(bucket: Bucket, perMinute: number): number {
  return Math.ceil(((1 - bucket.tokens) * 60_000) / perMinute);
}
