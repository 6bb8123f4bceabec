import { create } from "@bufbuild/protobuf";
import { SessionOutcome, type StatusReport } from "../../../gen/stallwatch/v1/agent_pb.js";
import { FleetTotalsSchema, type FleetTotals } from "../../../gen/stallwatch/v1/fleet_pb.js";

/**
 * Fleet-wide sums over every finished session reported so far. Agents repeat
 * their recent finished sessions in every report, so each is counted once.
 */
export class SessionTotals {
  private readonly totals: FleetTotals = create(FleetTotalsSchema);
  private readonly counted = new Map<string, Set<string>>();

  get current(): FleetTotals {
    return this.totals;
  }

  /** Adds the sessions of `workerId` not counted before. */
  count(workerId: string, finished: StatusReport["finished"]): void {
    let seen = this.counted.get(workerId);
    if (!seen) {
      seen = new Set();
      this.counted.set(workerId, seen);
    }
    const t = this.totals;
    for (const f of finished) {
      if (seen.has(f.sessionId)) continue;
      seen.add(f.sessionId);
      if (f.outcome === SessionOutcome.FINISHED) t.sessionsFinished += 1n;
      else if (f.outcome === SessionOutcome.CANCELLED) t.sessionsCancelled += 1n;
      else t.sessionsFailed += 1n;
      const m = f.metrics;
      t.rowsIn += m?.rowsIn ?? 0n;
      t.rowsOut += m?.rowsOut ?? 0n;
      t.bytesIn += m?.bytesIn ?? 0n;
      t.bytesOut += m?.bytesOut ?? 0n;
      t.workWallNanos += m?.workWallNanos ?? 0n;
      t.workCpuNanos += m?.workCpuNanos ?? 0n;
    }
    // Bounded: an agent repeats at most its last 100, so older ids can go.
    if (seen.size > 1000) this.counted.set(workerId, new Set(finished.map((f) => f.sessionId)));
  }
}
