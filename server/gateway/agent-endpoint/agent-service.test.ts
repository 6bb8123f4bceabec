import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, createHandlerContext } from "@connectrpc/connect";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  AgentService,
  AnnounceSchema,
  ConnectRequestSchema,
  StatusReportSchema,
  type ConnectRequest,
  type ConnectResponse,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import { EventEmitter } from "node:events";
import type { ServerHttp2Stream } from "node:http2";
import { peerAddressKey, peerStreamKey } from "../../shared/net/peer-address.js";
import { FakeClock } from "../../testing/fake-clock.js";
import { EventLog } from "../events/event-log.js";
import { Fleet } from "../fleet/fleet.js";
import { defaultProberOptions, HeartbeatProber } from "../heartbeats/heartbeat-prober.js";
import { createRedactor } from "../redaction/redact.js";
import type { AdmissionOptions } from "./agent-admission.js";
import type { AgentChannel } from "./agent-channel.js";
import { createAgentService } from "./agent-service.js";
import { systemClock } from "../../shared/clock/clock.js";

const log = pino({ level: "silent" });

/** The worker's side of one Connect stream: what it sends, and what the gateway sent it. */
function agentStream() {
  const inbox: ConnectRequest[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const requests: AsyncIterable<ConnectRequest> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = inbox.shift();
        if (next) {
          yield next;
          continue;
        }
        if (ended) return;
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
  return {
    requests,
    send(message: ConnectRequest["message"]) {
      inbox.push(create(ConnectRequestSchema, { message }));
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
  };
}

/** Stands for the HTTP/2 stream a request came on: its DATA as the test emits it, and a connection. */
function fakeH2Stream(): EventEmitter & { session: object } {
  return Object.assign(new EventEmitter(), { session: {} });
}

function setup(admission: Partial<AdmissionOptions> = {}) {
  const clock = new FakeClock(1_000_000);
  const events = new EventLog(systemClock);
  const fleet = new Fleet({ clock, events });
  const prober = new HeartbeatProber(fleet, { ...defaultProberOptions, log, clock });
  const channels = new Map<string, AgentChannel>();
  const refusals: string[] = [];
  const service = createAgentService(fleet, prober, channels, {
    intervalMs: 1000,
    statusIntervalMs: 10_000,
    statusDeadlineMs: 2000,
    announceTimeoutMs: 5000,
    admission,
    onRefused: (reason) => refusals.push(reason),
    redact: createRedactor(),
    events,
    log,
    clock,
  });
  /** Opens a stream from a loopback peer; collects what the gateway sends, and how it ended. */
  const open = (h2Stream?: EventEmitter) => {
    const worker = agentStream();
    const stop = new AbortController();
    const context = createHandlerContext({
      service: AgentService,
      method: AgentService.method.connect,
      protocolName: "grpc",
      requestMethod: "POST",
      url: "http://127.0.0.1/",
      requestSignal: stop.signal,
      contextValues: createContextValues()
        .set(peerAddressKey, "127.0.0.1:40000")
        .set(peerStreamKey, h2Stream as ServerHttp2Stream | undefined),
    });
    const sent: ConnectResponse[] = [];
    const outcome = (async () => {
      try {
        for await (const m of service.connect(worker.requests, context))
          sent.push(m as ConnectResponse);
        return undefined;
      } catch (err) {
        return ConnectError.from(err);
      }
    })();
    /** Answers every status request sent so far (and not answered yet). */
    let answered = 0;
    const answerStatus = () => {
      for (const m of sent.slice(answered)) {
        answered += 1;
        if (m.message.case === "statusRequest")
          worker.send({
            case: "status",
            value: create(StatusReportSchema, { requestId: m.message.value.requestId }),
          });
      }
    };
    const skipStatus = () => (answered = sent.length);
    return { worker, sent, outcome, answerStatus, skipStatus, stop };
  };
  return { clock, fleet, events, channels, open, prober, refusals };
}

describe("AgentService with a fake clock", () => {
  it("judges an agent without Manage by its status round trips, and marks it gone when its stream ends", async () => {
    const { clock, fleet, events, open, prober } = setup();
    const s = open();
    s.worker.send({
      case: "announce",
      value: create(AnnounceSchema, { workerId: "a1", pid: 7, host: "h" }),
    });
    await clock.advance(0);
    s.answerStatus();
    await clock.advance(0);
    const worker = fleet.get("a1");
    expect(worker?.kind).toBe("agent");
    expect(worker?.liveness.current.state).toBe("healthy");

    // Polls every interval; unanswered ones miss at their deadline.
    for (let i = 0; i < 4; i++) {
      await clock.advance(1000);
      s.skipStatus();
    }
    expect(worker?.liveness.current.state).toBe("unresponsive");
    // One request is in flight at a time (polls meanwhile share it, and each
    // counts as a miss if it fails): answer the next one that goes out.
    const before = s.sent.length;
    while (s.sent.length === before) await clock.advance(100);
    s.answerStatus();
    await clock.advance(0);
    expect(worker?.liveness.current.state).toBe("healthy");

    s.worker.end();
    // The send loop looks at the stream's end once per second of its clock.
    await clock.advance(1000);
    expect(await s.outcome).toBeUndefined();
    expect(worker?.liveness.current.state).toBe("gone");
    expect(worker?.agent?.connected).toBe(false);
    expect(
      events
        .list({ workerId: "a1", kind: "liveness" })
        .reverse()
        .map((e) => e.toState),
    ).toEqual(["healthy", "late", "unresponsive", "healthy", "gone"]);
    prober.stop();
  });

  it("refuses a stream that sends no Announce within the deadline, and costs it no row", async () => {
    const { clock, fleet, open, prober } = setup();
    const s = open();
    await clock.advance(4_999);
    await clock.advance(1);
    const err = await s.outcome;
    expect(err?.code).toBe(Code.DeadlineExceeded);
    expect(err?.rawMessage).toBe("no Announce within 5000 ms");
    expect(fleet.size).toBe(0);
    prober.stop();
  });

  it("closes a stream that announces and never answers its first status request, without a row", async () => {
    const { clock, fleet, channels, open, prober } = setup();
    const s = open();
    s.worker.send({ case: "announce", value: create(AnnounceSchema, { workerId: "junk" }) });
    await clock.advance(2100);
    const err = await s.outcome;
    expect(err?.code).toBe(Code.DeadlineExceeded);
    expect(err?.rawMessage).toMatch(/no answer to the first status request within 2000 ms/);
    expect(fleet.get("junk")).toBeUndefined();
    expect(channels.size).toBe(0);
    prober.stop();
  });

  // Issue 19 item 6: 2,000 streams that never join could each hold a 4 MiB message.
  it("refuses a stream not joined yet whose bytes take the pending memory over its budget; a joined one no longer counts", async () => {
    const { clock, fleet, open, prober, refusals } = setup({ maxPendingBytes: 256 << 10 });
    const joinedStream = fakeH2Stream();
    const joined = open(joinedStream);
    joined.worker.send({ case: "announce", value: create(AnnounceSchema, { workerId: "ok" }) });
    await clock.advance(0);
    joined.answerStatus();
    await clock.advance(0);
    expect(fleet.get("ok")?.liveness.current.state).toBe("healthy");
    joinedStream.emit("data", Buffer.alloc(300 << 10)); // a big report later: not pending any more

    const greedyStream = fakeH2Stream();
    const greedy = open(greedyStream);
    greedy.worker.send({ case: "announce", value: create(AnnounceSchema, { workerId: "greedy" }) });
    await clock.advance(0);
    greedyStream.emit("data", Buffer.alloc(300 << 10)); // before its first answer
    await clock.advance(2100);
    const err = await greedy.outcome;
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.rawMessage).toMatch(
      /have not joined yet already hold 256 KiB \(--agent-pending-memory-mib\)/,
    );
    expect(fleet.get("greedy")).toBeUndefined();
    expect(refusals).toEqual(["memory"]);
    expect(fleet.get("ok")?.agent?.connected).toBe(true);
    joined.worker.end();
    await clock.advance(1000);
    prober.stop();
  });
});
