import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  SessionOutcome,
  SessionSchema,
  SessionState,
  StatusReportSchema,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import { EventLog } from "../events/event-log.js";
import { Fleet } from "../fleet/fleet.js";
import { createRedactor } from "../redaction/redact.js";
import { StatusCollector } from "./status-collector.js";

function setup() {
  const fleet = new Fleet();
  const events = new EventLog();
  const collector = new StatusCollector(fleet, new Map(), events, {
    dumpIntervalMs: 10_000,
    watchedIntervalMs: 2000,
    deadlineMs: 1000,
    maxDumpsPerSecond: 10,
    thresholds: { byState: { [SessionState.PROCESSING]: 1000 }, noProgressMs: 60_000 },
    redact: createRedactor(),
    log: pino({ level: "silent" }),
  });
  const worker = fleet.enroll("w-1", "agent", "127.0.0.1:1");
  return { fleet, events, collector, worker };
}

describe("StatusCollector", () => {
  it("counts each finished session once in the fleet totals, though agents repeat them", () => {
    const { collector, worker } = setup();
    const finished = (id: string, outcome: SessionOutcome, rows: bigint) => ({
      sessionId: id,
      outcome,
      metrics: { rowsIn: rows, rowsOut: rows, bytesIn: 100n, workCpuNanos: 5n },
    });
    collector.ingestReport(
      worker,
      create(StatusReportSchema, { finished: [finished("a", SessionOutcome.FINISHED, 10n)] }),
      "periodic",
    );
    collector.ingestReport(
      worker,
      create(StatusReportSchema, {
        finished: [
          finished("b", SessionOutcome.FAILED, 5n),
          finished("a", SessionOutcome.FINISHED, 10n),
        ],
      }),
      "periodic",
    );
    expect(collector.totals()).toMatchObject({
      sessionsFinished: 1n,
      sessionsFailed: 1n,
      rowsIn: 15n,
      bytesIn: 200n,
      workCpuNanos: 10n,
    });
  });

  it("flags a session stalled past its state's threshold, records the event once, and clears it", () => {
    const { collector, worker, events } = setup();
    const stuck = create(SessionSchema, {
      sessionId: "s-1",
      state: SessionState.PROCESSING,
      stateEnteredAtMs: BigInt(Date.now() - 5000),
      udfName: "hang",
      progress: { lastProgressAtMs: BigInt(Date.now()) },
    });
    collector.ingestReport(worker, create(StatusReportSchema, { sessions: [stuck] }), "periodic");
    collector.ingestReport(worker, create(StatusReportSchema, { sessions: [stuck] }), "periodic");
    expect(collector.stalledSessions().map((s) => s.session?.sessionId)).toEqual(["s-1"]);
    expect(events.list({ kind: "session_stalled" })).toHaveLength(1);
    collector.ingestReport(worker, create(StatusReportSchema, { sessions: [] }), "periodic");
    expect(collector.stalledSessions()).toEqual([]);
    expect(events.list({ kind: "session_cleared" })[0]?.summary).toBe("session s-1 ended");
  });
});
