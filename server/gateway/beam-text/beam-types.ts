/**
 * What a Beam SDK harness's status text (`WorkerStatusResponse.status_info`)
 * says, once parsed. Each SDK writes it differently (see
 * shared/spec/beam-worker-status.md and ./fixtures); the parsers turn all
 * three into these shapes and keep whatever they do not understand.
 */

export type BeamFormat = "python" | "java" | "go" | "unknown";

/** One active bundle: a harness's unit of work, shown as a session. */
export interface BeamBundle {
  instructionId: string;
  /** Empty when the SDK does not say (Java, Go). */
  descriptorId: string;
  /** As written: Python's thread repr, Java's thread name. */
  trackedThread: string;
  /** What the dump's threads are keyed by: Python's ident, Java's name; empty when unknown. */
  trackedThreadKey: string;
  /** Seconds since the bundle's last state transition (Beam's lull clock). */
  timeSinceTransitionSec: number;
}

/** One thread (Python, Java) or goroutine (Go). */
export interface BeamThread {
  /** Python's ident, Java's `#id` (21+) or name, Go's `goroutine N`. */
  threadId: string;
  name: string;
  /** Java's Thread.State, Go's bracketed state; "" for Python, which has none. */
  state: string;
  /** Innermost first. Shared between the members of one group: never mutate. */
  frames: readonly string[];
  /** Parked in a known wait (see idle-frames.ts): never "not moving" unless a bundle tracks it. */
  idle: boolean;
  /** The SDK's own status-reporting thread: answering us is all it does. */
  statusHandler: boolean;
  /** The SDK says the thread has been blocked at least this long (Go's "N minutes"). */
  blockedForMs?: number;
}

export interface ParsedBeamStatus {
  format: BeamFormat;
  bundles: BeamBundle[];
  threads: BeamThread[];
  /** Titles of the sections seen, in order (Python, Java). */
  sections: string[];
  /** Lines no parser understood (clipped), so they stay visible. */
  unparsed: string;
  unparsedLines: number;
  /** What the caps cut; zero when nothing was. */
  cut: { threads: number; frames: number; bytes: number; lines: number };
}

export interface BeamParseLimits {
  /** Characters of text parsed at most; the rest is only in the raw text. */
  maxChars: number;
  /** Characters of one line looked at; longer lines are clipped before any matching. */
  maxLineChars: number;
  maxThreads: number;
  maxFramesPerThread: number;
  /** Characters of unparsed text kept for display. */
  maxUnparsedChars: number;
}

export const defaultBeamParseLimits: BeamParseLimits = {
  maxChars: 4 << 20,
  maxLineChars: 4096,
  maxThreads: 10_000,
  maxFramesPerThread: 200,
  maxUnparsedChars: 16 << 10,
};
