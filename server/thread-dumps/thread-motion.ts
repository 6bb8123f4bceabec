/** A thread as the motion tracker needs it. */
export interface ObservedThread {
  threadId: string;
  state: string;
  frames: readonly string[];
}

export interface ThreadMotion {
  /** The stack has been identical in every dump since then. */
  unchangedSinceMs: number;
  notMoving: boolean;
}

/** States in which a thread is expected to sit still (waiting for work). */
const RESTING_STATES = new Set(["idle", "waiting-for-work"]);

/**
 * Tracks, per worker, how long each thread's stack has been unchanged across
 * consecutive dumps. A thread is "not moving" once its stack is identical in
 * at least two dumps spanning `thresholdMs`, and it is not resting (an idle
 * event loop is not a stall).
 */
export class ThreadMotionTracker {
  private stacks = new Map<string, { key: string; sinceMs: number; seen: number }>();

  constructor(private readonly thresholdMs: number) {}

  observe(threads: readonly ObservedThread[], takenAtMs: number): Map<string, ThreadMotion> {
    const next = new Map<string, { key: string; sinceMs: number; seen: number }>();
    const result = new Map<string, ThreadMotion>();
    for (const thread of threads) {
      const key = thread.frames.join("\n");
      const before = this.stacks.get(thread.threadId);
      const entry =
        before && before.key === key
          ? { key, sinceMs: before.sinceMs, seen: before.seen + 1 }
          : { key, sinceMs: takenAtMs, seen: 1 };
      next.set(thread.threadId, entry);
      const notMoving =
        entry.seen >= 2 &&
        takenAtMs - entry.sinceMs >= this.thresholdMs &&
        thread.frames.length > 0 &&
        !RESTING_STATES.has(thread.state);
      result.set(thread.threadId, { unchangedSinceMs: entry.sinceMs, notMoving });
    }
    // Threads that ended are forgotten, so memory follows the live thread count.
    this.stacks = next;
    return result;
  }
}
