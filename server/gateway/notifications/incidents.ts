import type { NoticeKind } from "./payloads.js";

/** The fleet event fields the notifier reads (FleetEvent's, as plain strings). */
export interface IncidentEvent {
  workerId: string;
  kind: string;
  toState: string;
  sessionId: string;
}

/** Liveness states that open an incident, and those that end its liveness part. */
const BAD = new Set(["unresponsive", "gone"]);
const GOOD = new Set(["healthy", "exited"]);

/**
 * One message per worker per incident, plus one when it recovers. An
 * incident opens with the first bad news about a worker (unresponsive, gone,
 * a session stalled) and stays open while any cause remains (its liveness
 * bad, any session stalled); later bad news inside it is a duplicate. It
 * closes, with a recovery, when the last cause clears. At most `maxOpen`
 * workers are tracked (the oldest incident is forgotten, never a crash).
 */
export class Incidents {
  private readonly open = new Map<string, Set<string>>();

  constructor(private readonly maxOpen = 10_000) {}

  /** What to send for `event`: a kind, "duplicate", or undefined (nothing to say). */
  judge(event: IncidentEvent): NoticeKind | "duplicate" | undefined {
    if (event.kind === "action") return "action";
    const causes = this.open.get(event.workerId);
    if (event.kind === "liveness" && BAD.has(event.toState))
      return this.raise(event.workerId, causes, "liveness", event.toState as "gone");
    if (event.kind === "session_stalled")
      return this.raise(event.workerId, causes, `session:${event.sessionId}`, "stalled");
    const cleared =
      event.kind === "liveness" && GOOD.has(event.toState)
        ? "liveness"
        : event.kind === "session_cleared"
          ? `session:${event.sessionId}`
          : undefined;
    if (!cleared || !causes) return undefined;
    // A worker that exited has no sessions left: its incident is over, whatever opened it.
    if (event.kind === "liveness" && event.toState === "exited") causes.clear();
    else if (!causes.delete(cleared)) return undefined;
    if (causes.size > 0) return undefined;
    this.open.delete(event.workerId);
    return "recovered";
  }

  private raise(
    workerId: string,
    causes: Set<string> | undefined,
    cause: string,
    kind: NoticeKind,
  ): NoticeKind | "duplicate" {
    if (causes) {
      causes.add(cause);
      return "duplicate";
    }
    if (this.open.size >= this.maxOpen) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) this.open.delete(oldest);
    }
    this.open.set(workerId, new Set([cause]));
    return kind;
  }
}
