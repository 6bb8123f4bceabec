/**
 * A fixed-size ring of (timestamp, value) samples: memory per worker is
 * bounded no matter how long it lives. Oldest samples are overwritten.
 */
export class SampleRing {
  private readonly times: Float64Array;
  private readonly values: Float64Array;
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.times = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(timeMs: number, value: number): void {
    this.times[this.next] = timeMs;
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count += 1;
  }

  /** The newest value, or undefined when empty. */
  last(): number | undefined {
    if (this.count === 0) return undefined;
    return this.values[(this.next - 1 + this.capacity) % this.capacity];
  }

  /** Values of the newest `n` samples, oldest first. */
  lastValues(n: number): number[] {
    const take = Math.min(n, this.count);
    const out = new Array<number>(take);
    for (let i = 0; i < take; i++) {
      out[i] = this.values[(this.next - take + i + this.capacity) % this.capacity] ?? 0;
    }
    return out;
  }

  /**
   * Calls `visit` for each sample with `fromMs <= time <= toMs`, oldest first,
   * copying nothing: bulk readers (snapshots) downsample straight from here.
   */
  forEachBetween(
    fromMs: number,
    toMs: number,
    visit: (timeMs: number, value: number) => void,
  ): void {
    for (let i = 0; i < this.count; i++) {
      const at = (this.next - this.count + i + this.capacity) % this.capacity;
      const t = this.times[at] ?? 0;
      if (t >= fromMs && t <= toMs) visit(t, this.values[at] ?? 0);
    }
  }

  /** Samples at or after `sinceMs`, oldest first, as parallel arrays. */
  since(sinceMs: number): { times: number[]; values: number[] } {
    const times: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < this.count; i++) {
      const at = (this.next - this.count + i + this.capacity) % this.capacity;
      const t = this.times[at] ?? 0;
      if (t >= sinceMs) {
        times.push(t);
        values.push(this.values[at] ?? 0);
      }
    }
    return { times, values };
  }
}

/** Nearest-rank percentile (0-100) of unsorted values; 0 when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? 0;
}
