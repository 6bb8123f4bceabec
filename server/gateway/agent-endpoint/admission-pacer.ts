import { Code } from "@connectrpc/connect";
import { AgentRefusal } from "./agent-admission.js";

/**
 * Admission work per event-loop turn. A read from one socket can carry the
 * HEADERS of many new streams, and 500 connections read in one I/O poll
 * carried 2,000: admitting them all (Announce decode, redaction, ownership,
 * the first status request) in one go held the loop for seconds, and
 * `/healthz` and heartbeats waited behind it. Streams take a turn here
 * first: at most `perTurn` go on, the rest after a `setImmediate`, so the
 * I/O waiting in between (a /healthz, a heartbeat answer) runs first.
 * At most `maxWaiting` may wait; more are refused (`ResourceExhausted`).
 */
export class AdmissionPacer {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;

  constructor(
    readonly perTurn: number,
    readonly maxWaiting: number,
  ) {}

  /** Streams waiting for their turn now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves on the stream's turn; throws an {@link AgentRefusal} when too many wait. */
  turn(): Promise<void> {
    if (this.waiting.length >= this.maxWaiting)
      return Promise.reject(
        new AgentRefusal(
          "busy",
          `${this.maxWaiting} agent streams are already waiting to be admitted; retry with backoff`,
          Code.ResourceExhausted,
        ),
      );
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      // The continuations of these run as microtasks right after this callback;
      // the next batch waits for the next turn, after the I/O poll.
      for (const go of this.waiting.splice(0, this.perTurn)) go();
      if (this.waiting.length > 0) this.schedule();
    });
  }
}
