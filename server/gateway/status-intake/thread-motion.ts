/** A thread as the motion tracker needs it. */
export interface ObservedThread {
  threadId: string;
  state: string;
  frames: readonly string[];
  /** Parked where threads wait for work (a Beam classification); undefined = judge by `state`. */
  idle?: boolean;
  /** Never a suspect: e.g. the harness's own status thread, busy answering us. */
  neverSuspect?: boolean;
  /** A bundle/session runs on this thread: watched even when it looks idle. */
  tracked?: boolean;
  /** Outside evidence that it has not moved for at least this long (Go's "N minutes", a bundle's lull). */
  stillForMs?: number;
  /** Outside evidence that it moved within the threshold (its bundle just made a transition). */
  movedRecently?: boolean;
}

export interface ThreadMotion {
  /** The stack has been identical in every dump since then. */
  unchangedSinceMs: number;
  notMoving: boolean;
}

/** States in which a thread is expected to sit still (waiting for work). */
const RESTING_STATES = new Set(["idle", "waiting-for-work"]);

/** Marks the text a worker writes when it could not read a thread's stack. */
const CAPTURE_FAILED = "stack unavailable";

/** A dump that could not read this thread's stack says nothing about whether it moved. */
export function captureFailed(frames: readonly string[]): boolean {
  return frames.length > 0 && frames.every((f) => f.includes(CAPTURE_FAILED));
}

interface Entry {
  key: string;
  sinceMs: number;
  seen: number;
  lastSeenMs: number;
}

/** Threads remembered at most, per worker, including recently absent ones. */
const MAX_REMEMBERED = 20_000;

/**
 * Tracks, per worker, how long each thread's stack has been unchanged across
 * dumps. A thread is "not moving" once its stack is identical in at least two
 * dumps spanning `thresholdMs` (or outside evidence says so), and it is a
 * suspect: not resting/idle unless a session tracks it, and not the
 * harness's own status thread.
 *
 * The clock only resets on real movement (issue 11): a failed capture ("stack
 * unavailable…") keeps the previous stack and clock, and a thread missing
 * from one dump is remembered for `forgetAfterMs` before it is forgotten.
 */
export class ThreadMotionTracker {
  private stacks = new Map<string, Entry>();
  private readonly forgetAfterMs: number;

  constructor(
    readonly thresholdMs: number,
    forgetAfterMs?: number,
  ) {
    this.forgetAfterMs = forgetAfterMs ?? Math.max(60_000, thresholdMs * 3);
  }

  observe(threads: readonly ObservedThread[], takenAtMs: number): Map<string, ThreadMotion> {
    const result = new Map<string, ThreadMotion>();
    const present = new Set<string>();
    for (const thread of threads) {
      present.add(thread.threadId);
      const before = this.stacks.get(thread.threadId);
      let entry: Entry;
      if (captureFailed(thread.frames)) {
        // No evidence either way: keep what we knew, without counting a sighting.
        entry = before
          ? { ...before, lastSeenMs: takenAtMs }
          : { key: "", sinceMs: takenAtMs, seen: 0, lastSeenMs: takenAtMs };
      } else {
        const key = thread.frames.join("\n");
        entry =
          before && before.key === key
            ? { key, sinceMs: before.sinceMs, seen: before.seen + 1, lastSeenMs: takenAtMs }
            : { key, sinceMs: takenAtMs, seen: 1, lastSeenMs: takenAtMs };
      }
      if (thread.movedRecently) entry = { ...entry, sinceMs: takenAtMs, seen: 1 };
      this.stacks.set(thread.threadId, entry);

      let sinceMs = entry.sinceMs;
      const evidence = thread.stillForMs !== undefined && thread.stillForMs >= this.thresholdMs;
      if (evidence && !thread.movedRecently)
        sinceMs = Math.min(sinceMs, takenAtMs - (thread.stillForMs ?? 0));
      const resting = thread.idle ?? RESTING_STATES.has(thread.state);
      const suspect = !thread.neverSuspect && (thread.tracked === true || !resting);
      const notMoving =
        suspect &&
        entry.key !== "" &&
        (entry.seen >= 2 || evidence) &&
        takenAtMs - sinceMs >= this.thresholdMs &&
        thread.frames.length > 0 &&
        !thread.movedRecently;
      result.set(thread.threadId, { unchangedSinceMs: sinceMs, notMoving });
    }
    // Threads absent long enough have ended: memory follows the live thread count.
    for (const [id, e] of this.stacks)
      if (!present.has(id) && takenAtMs - e.lastSeenMs > this.forgetAfterMs) this.stacks.delete(id);
    if (this.stacks.size > MAX_REMEMBERED)
      for (const id of this.stacks.keys()) {
        if (this.stacks.size <= MAX_REMEMBERED) break;
        if (!present.has(id)) this.stacks.delete(id);
      }
    return result;
  }
}
