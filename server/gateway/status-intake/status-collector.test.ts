import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  AnnounceSchema,
  SessionOutcome,
  SessionSchema,
  SessionState,
  StatusReportSchema,
  ThreadDumpSchema,
  type ConnectResponse,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import { FakeClock } from "../../testing/fake-clock.js";
import { AgentChannel } from "../agent-endpoint/agent-channel.js";
import { EventLog } from "../events/event-log.js";
import { Fleet } from "../fleet/fleet.js";
import { createRedactor } from "../redaction/redact.js";
import { StatusCollector } from "./status-collector.js";
import { systemClock } from "../../shared/clock/clock.js";

/** A fleet of agent workers whose agents answer (or not) on the test's say. */
function setup(ids: string[]) {
  const clock = new FakeClock(1_000_000);
  const events = new EventLog(systemClock);
  const fleet = new Fleet({ clock, events });
  const agents = new Map<string, AgentChannel>();
  for (const id of ids) {
    const worker = fleet.enroll(id, "agent", `${id}:1`);
    fleet.agentConnected(worker, create(AnnounceSchema, { workerId: id }));
    agents.set(id, new AgentChannel(id, clock));
  }
  const collector = new StatusCollector(fleet, agents, events, {
    dumpIntervalMs: 10_000,
    watchedIntervalMs: 2_000,
    deadlineMs: 3_000,
    minDumpsPerSecond: 50,
    maxDumpsPerSecond: 500,
    thresholds: { byState: { [SessionState.PROCESSING]: 60_000 }, noProgressMs: 600_000 },
    redact: createRedactor(),
    log: pino({ level: "silent" }),
    clock,
  });
  /** Status requests each agent was sent so far (drained). */
  const asked = async (id: string) => {
    const sent: ConnectResponse[] =
      (await agents.get(id)?.outbox.takeAll(AbortSignal.timeout(1000), 0)) ?? [];
    return sent.flatMap((m) => (m.message.case === "statusRequest" ? [m.message.value] : []));
  };
  return { clock, events, fleet, agents, collector, asked };
}

/** A session processing since `enteredAtMs` that last made progress at `progressAtMs`. */
const processing = (sessionId: string, enteredAtMs: number, progressAtMs: number) =>
  create(SessionSchema, {
    sessionId,
    state: SessionState.PROCESSING,
    stateEnteredAtMs: BigInt(enteredAtMs),
    udfName: "hang",
    progress: { lastProgressAtMs: BigInt(progressAtMs) },
  });

describe("StatusCollector with a fake clock", () => {
  it("asks every worker for a dump on the slow cadence, and a watched one on the fast cadence", async () => {
    const { clock, collector, asked, agents } = setup(["w-1", "w-2"]);
    collector.start();
    const release = collector.watch("w-2");
    const counts = { "w-1": 0, "w-2": 0 };
    for (let second = 0; second < 30; second++) {
      await clock.advance(1000);
      for (const id of ["w-1", "w-2"] as const)
        for (const request of await asked(id)) {
          counts[id] += 1;
          agents.get(id)?.onStatus(create(StatusReportSchema, { requestId: request.requestId }));
        }
    }
    expect(counts["w-1"]).toBe(3); // t=0, 10, 20 s
    expect(counts["w-2"]).toBe(15); // every 2 s while watched
    release();
    collector.stop();
  });

  it("gives up on a dump at its deadline and keeps the worker's last one", async () => {
    const { clock, fleet, agents, collector, asked } = setup(["w-1"]);
    const worker = fleet.get("w-1");
    if (!worker) throw new Error("no worker");
    const first = collector.collectNow(worker, "watch");
    const [request] = await asked("w-1");
    agents.get("w-1")?.onStatus(
      create(StatusReportSchema, {
        requestId: request?.requestId ?? "",
        dump: create(ThreadDumpSchema, { takenAtMs: BigInt(clock.now()), threads: [] }),
      }),
    );
    const dump = await first;
    expect(dump?.source).toBe("agent");
    const late = collector.collectNow(worker, "watch");
    await clock.advance(3_000);
    expect(await late).toBeUndefined();
    expect(worker.status.latestDump?.id).toBe(dump?.id);
  });

  it("keeps the stall clock running between reports, and records stalled then cleared once each", async () => {
    const { clock, fleet, events, collector } = setup(["w-1"]);
    const worker = fleet.get("w-1");
    if (!worker) throw new Error("no worker");
    const session = processing("s-1", clock.now(), clock.now());
    // What the agent stream polled: folded in by the next tick.
    fleet.agentReported(
      worker,
      create(StatusReportSchema, { sessions: [session] }),
      1,
      clock.now(),
    );
    collector.start();
    await clock.advance(59_000);
    expect(collector.stalledSessions()).toEqual([]);
    await clock.advance(2_000);
    expect(collector.stalledSessions().map((s) => s.session?.sessionId)).toEqual(["s-1"]);
    await clock.advance(30_000);
    expect(events.list({ kind: "session_stalled" })).toHaveLength(1);
    fleet.agentReported(worker, create(StatusReportSchema, { sessions: [] }), 1, clock.now() + 1);
    await clock.advance(1_000);
    expect(collector.stalledSessions()).toEqual([]);
    expect(events.list({ kind: "session_cleared" })[0]?.summary).toBe("session s-1 ended");
    collector.stop();
  });

  it("counts each finished session once in the fleet totals, though agents repeat them", () => {
    const { collector, fleet } = setup(["w-1"]);
    const worker = fleet.get("w-1");
    if (!worker) throw new Error("no worker");
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
    const { clock, collector, fleet, events } = setup(["w-1"]);
    const worker = fleet.get("w-1");
    if (!worker) throw new Error("no worker");
    const stuck = processing("s-1", clock.now() - 65_000, clock.now());
    collector.ingestReport(worker, create(StatusReportSchema, { sessions: [stuck] }), "periodic");
    collector.ingestReport(worker, create(StatusReportSchema, { sessions: [stuck] }), "periodic");
    expect(collector.stalledSessions().map((s) => s.session?.sessionId)).toEqual(["s-1"]);
    expect(events.list({ kind: "session_stalled" })).toHaveLength(1);
    collector.ingestReport(worker, create(StatusReportSchema, { sessions: [] }), "periodic");
    expect(collector.stalledSessions()).toEqual([]);
    expect(events.list({ kind: "session_cleared" })[0]?.summary).toBe("session s-1 ended");
  });

  it("names each session's thread as the latest dump does, also in reports that carry no dump", () => {
    const { clock, collector, fleet } = setup(["py-1"]);
    const worker = fleet.get("py-1");
    if (!worker) throw new Error("no worker");
    const session = create(SessionSchema, {
      ...processing("s-1", clock.now(), clock.now()),
      threadId: "140581904828096",
    });
    const ts = create(SessionSchema, {
      ...processing("s-2", clock.now(), clock.now()),
      threadId: "udf-2",
    });
    const dump = create(ThreadDumpSchema, {
      threads: [
        { threadId: "140581904828096", name: "grpc-udf_3", frames: ["recv_into (socket.py:706)"] },
        { threadId: "udf-2", name: "udf-2", frames: ["spin (udfs.js:1)"] },
      ],
    });
    const names = () => worker.status.sessions.map((v) => [v.session?.sessionId, v.threadName]);
    collector.ingestReport(
      worker,
      create(StatusReportSchema, { sessions: [session, ts], dump }),
      "periodic",
    );
    // A name that is the id says nothing more: left empty.
    expect(names()).toEqual([
      ["s-1", "grpc-udf_3"],
      ["s-2", ""],
    ]);
    collector.ingestReport(
      worker,
      create(StatusReportSchema, { sessions: [session, ts] }),
      "periodic",
    );
    expect(names()).toEqual([
      ["s-1", "grpc-udf_3"],
      ["s-2", ""],
    ]);
    // A thread the dump does not have: no name, not a wrong one.
    const other = create(SessionSchema, {
      ...processing("s-3", clock.now(), clock.now()),
      threadId: "7",
    });
    collector.ingestReport(worker, create(StatusReportSchema, { sessions: [other] }), "periodic");
    expect(names()).toEqual([["s-3", ""]]);
  });
});
