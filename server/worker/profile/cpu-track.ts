import { readFileSync } from "node:fs";

/** Share of a poll window the thread must have run for its samples to count as on-CPU. */
const ON_CPU_SHARE = 0.3;
/** A 60 s profile makes 4 inspector calls per 2 s chunk: 120; more is a bug, not a reason to grow. */
const MAX_OWN_WORK_SPANS = 1000;

/**
 * A thread's CPU time over a window, polled from Linux's per-thread
 * accounting (`/proc/self/task/<tid>/schedstat`, ns). A sample taken at
 * time t counts as on-CPU when the thread ran for at least 30% of the poll
 * window around t: "its CPU time moved", at the poll's resolution.
 * Timestamps are µs on the monotonic clock V8's profiler uses too
 * (`process.hrtime`).
 */
export class CpuTrack {
  private readonly points: { tUs: number; cpuNs: number }[] = [];
  /** Spans (µs) when the thread served the profiler's own inspector messages. */
  private readonly ownWork: { fromUs: number; toUs: number }[] = [];
  private readonly path: string;
  private timer: NodeJS.Timeout | undefined;
  /** False when the thread's CPU time cannot be read: CPU mode is not possible. */
  readonly readable: boolean;

  constructor(tid: number, pollMs = 10) {
    this.path = `/proc/self/task/${tid}/schedstat`;
    this.readable = this.poll();
    if (this.readable) this.timer = setInterval(() => this.poll(), pollMs);
  }

  stop(): void {
    this.poll();
    clearInterval(this.timer);
  }

  /**
   * Marks a span when the thread ran for the profiler, not for its user
   * code: V8 serves each inspector message (start, stop, the coverage reset)
   * by interrupting the thread, so a thread blocked in a read wakes and
   * uses CPU for it. A poll window that overlaps such a span cannot tell
   * that work from the thread's own, so its samples do not count as on-CPU.
   * Without this, a blocked thread's CPU profile showed the blocking frame
   * "on CPU" for the sample taken while it answered the profiler.
   */
  markOwnWork(fromUs: number, toUs: number): void {
    if (this.ownWork.length < MAX_OWN_WORK_SPANS) this.ownWork.push({ fromUs, toUs });
  }

  /** Whether the thread was running its own code around `tUs`. */
  onCpu(tUs: number): boolean {
    const i = this.windowAt(tUs);
    const a = this.points[i - 1];
    const b = this.points[i];
    if (!a || !b || b.tUs <= a.tUs) return false;
    if (this.ownWork.some((w) => w.fromUs <= b.tUs && w.toUs >= a.tUs)) return false;
    return (b.cpuNs - a.cpuNs) / 1000 / (b.tUs - a.tUs) >= ON_CPU_SHARE;
  }

  /** CPU time the thread used while tracked, ms. */
  get cpuMs(): number {
    const first = this.points[0];
    const last = this.points[this.points.length - 1];
    return first && last ? (last.cpuNs - first.cpuNs) / 1e6 : 0;
  }

  /** Index of the first point at or after tUs (binary search). */
  private windowAt(tUs: number): number {
    let lo = 0;
    let hi = this.points.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.points[mid]?.tUs ?? 0) < tUs) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(1, lo);
  }

  private poll(): boolean {
    try {
      const cpuNs = Number(readFileSync(this.path, "utf8").split(" ")[0]);
      if (!Number.isFinite(cpuNs)) return false;
      this.points.push({ tUs: nowUs(), cpuNs });
      return true;
    } catch {
      return false;
    }
  }
}

/** Microseconds on the monotonic clock V8's profiler stamps its samples with. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
