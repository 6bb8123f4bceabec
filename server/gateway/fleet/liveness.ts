/**
 * Liveness of one worker as the heartbeat prober judges it.
 *
 * - `pending`: no heartbeat attempted yet.
 * - `healthy`: the last heartbeat was answered within its deadline.
 * - `late`: one or more misses in a row, fewer than `unresponsiveAfter`.
 * - `unresponsive`: `unresponsiveAfter` misses in a row.
 * - `gone`: refused, reset, closed, or not speaking the protocol.
 * - `draining` / `exited`: set by shutdown actions, not by heartbeats.
 */
export type LivenessState =
  "pending" | "healthy" | "late" | "unresponsive" | "gone" | "draining" | "exited";

export interface LivenessSnapshot {
  state: LivenessState;
  sinceMs: number;
  reason: string;
  consecutiveMisses: number;
  lastHeartbeatAtMs: number;
}

export interface LivenessChange {
  from: LivenessState;
  to: LivenessState;
  atMs: number;
  reason: string;
}

/**
 * The per-worker state machine. Pure: the caller passes the clock, so tests
 * drive it with a fake one. Each method returns the change it caused, if any.
 */
export class LivenessTracker {
  private snapshot: LivenessSnapshot;

  constructor(
    private readonly unresponsiveAfter: number,
    nowMs: number,
  ) {
    this.snapshot = {
      state: "pending",
      sinceMs: nowMs,
      reason: "waiting for the first heartbeat",
      consecutiveMisses: 0,
      lastHeartbeatAtMs: 0,
    };
  }

  get current(): Readonly<LivenessSnapshot> {
    return this.snapshot;
  }

  /** An answered heartbeat. */
  answered(nowMs: number): LivenessChange | undefined {
    this.snapshot.consecutiveMisses = 0;
    this.snapshot.lastHeartbeatAtMs = nowMs;
    const reason =
      this.snapshot.state === "pending" ? "first heartbeat answered" : "heartbeats answered again";
    // Draining is an operator's intent: answering heartbeats does not undo it.
    if (this.snapshot.state === "draining") return undefined;
    return this.move("healthy", nowMs, reason);
  }

  /** No answer within the deadline (or a gRPC error status). */
  missed(nowMs: number, reason: string): LivenessChange | undefined {
    this.snapshot.consecutiveMisses += 1;
    if (this.snapshot.state === "draining" || this.snapshot.state === "exited") return undefined;
    const misses = this.snapshot.consecutiveMisses;
    const next = misses >= this.unresponsiveAfter ? "unresponsive" : "late";
    const why = `${misses} missed heartbeat${misses === 1 ? "" : "s"} in a row (${reason})`;
    if (next === this.snapshot.state) {
      this.snapshot.reason = why;
      return undefined;
    }
    return this.move(next, nowMs, why);
  }

  /** The connection is refused, reset or closed, or the peer is not a worker. */
  gone(nowMs: number, reason: string): LivenessChange | undefined {
    this.snapshot.consecutiveMisses += 1;
    if (this.snapshot.state === "exited") return undefined;
    // A drained worker that went away did what it was asked.
    if (this.snapshot.state === "draining")
      return this.move("exited", nowMs, `exited after drain (${reason})`);
    if (this.snapshot.state === "gone") {
      this.snapshot.reason = reason;
      return undefined;
    }
    return this.move("gone", nowMs, reason);
  }

  /** The worker ended its own connection cleanly (e.g. a Beam harness half-closed its stream). */
  exited(nowMs: number, reason: string): LivenessChange | undefined {
    return this.move("exited", nowMs, reason);
  }

  /** An operator asked the worker to drain or cancel all. */
  draining(nowMs: number, reason: string): LivenessChange | undefined {
    return this.move("draining", nowMs, reason);
  }

  private move(to: LivenessState, atMs: number, reason: string): LivenessChange | undefined {
    const from = this.snapshot.state;
    if (from === to) return undefined;
    this.snapshot.state = to;
    this.snapshot.sinceMs = atMs;
    this.snapshot.reason = reason;
    return { from, to, atMs, reason };
  }
}
