import type { SessionView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { EventLog } from "../events/event-log.js";
import type { TrackedWorker, SessionVerdict } from "../fleet/tracked-worker.js";
import type { Fleet } from "../fleet/fleet.js";
import { judgeSession, type StallThresholds } from "./stall-rules.js";

/**
 * Applies the stall rules to a worker's live sessions and turns transitions
 * into events: "stalled" once, with the latest dump as evidence, and
 * "cleared" when the session moves again or ends.
 */
export class StallWatch {
  /** Stalled session ids per worker, with when each stalled. */
  private readonly stalled = new Map<string, Map<string, number>>();

  constructor(
    private readonly fleet: Fleet,
    private readonly events: EventLog,
    private readonly thresholds: StallThresholds,
  ) {}

  judge(worker: TrackedWorker, nowMs: number): void {
    const before = this.stalled.get(worker.id) ?? new Map<string, number>();
    const after = new Map<string, number>();
    const verdicts = new Map<string, SessionVerdict>();
    for (const view of worker.status.sessions) {
      const session = view.session;
      if (!session) continue;
      const verdict = judgeSession(session, nowMs, this.thresholds);
      verdicts.set(session.sessionId, verdict);
      if (!verdict.stalled) continue;
      after.set(session.sessionId, verdict.sinceMs);
      if (!before.has(session.sessionId)) {
        const dump = worker.status.latestDump;
        this.events.record({
          workerId: worker.id,
          kind: "session_stalled",
          sessionId: session.sessionId,
          summary: `session ${session.sessionId} (${session.udfName || "udf"}) stalled: ${verdict.reason}`,
          ...(dump ? { evidence: dump } : {}),
        });
      }
    }
    this.fleet.sessionsJudged(worker, verdicts);
    for (const id of before.keys()) {
      if (after.has(id)) continue;
      const still = worker.status.sessions.some((s) => s.session?.sessionId === id);
      this.events.record({
        workerId: worker.id,
        kind: "session_cleared",
        sessionId: id,
        summary: `session ${id} ${still ? "moving again" : "ended"}`,
      });
    }
    if (after.size > 0 || before.size > 0) this.stalled.set(worker.id, after);
  }

  /** Every stalled session in the fleet, longest without progress first. */
  stalledSessions(): SessionView[] {
    const out: SessionView[] = [];
    for (const worker of this.fleet.all())
      for (const s of worker.status.sessions) if (s.stalled) out.push(s);
    return out.sort((a, b) => Number(a.lastProgressAtMs - b.lastProgressAtMs));
  }
}
