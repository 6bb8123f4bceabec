import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { WorkerResponseSchema } from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { EventLog } from "../events/event-log.js";
import { Fleet } from "../fleet/fleet.js";
import { FakeClock } from "../../testing/fake-clock.js";
import { fakeWorker, type Reply } from "./testing/fake-beat-client.js";
import { pollUntil } from "../../testing/poll.js";
import { defaultProberOptions, HeartbeatProber } from "./heartbeat-prober.js";
import { systemClock } from "../../shared/clock/clock.js";

/** Answers `Manage(Heartbeat)`; the first call on each connection waits `warmUpMs` (a cold handler). */
async function manageServer(warmUpMs: number) {
  const answer = toBinary(
    WorkerResponseSchema,
    create(WorkerResponseSchema, { manage: { case: "heartbeat", value: { metrics: {} } } }),
  );
  const framed = Buffer.alloc(5 + answer.length);
  framed.writeUInt32BE(answer.length, 1);
  framed.set(answer, 5);
  const server = http2.createServer();
  const seen = new WeakSet<http2.ServerHttp2Session>();
  server.on("stream", (stream) => {
    const first = !seen.has(stream.session as http2.ServerHttp2Session);
    seen.add(stream.session as http2.ServerHttp2Session);
    stream.on("data", () => undefined);
    stream.on("end", () => {
      setTimeout(
        () => {
          if (stream.destroyed) return;
          stream.respond(
            { ":status": 200, "content-type": "application/grpc+proto" },
            { waitForTrailers: true },
          );
          stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
          stream.end(framed);
        },
        first ? warmUpMs : 0,
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : 0 };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("HeartbeatProber latency (issue 11, bug 9)", () => {
  it("keeps the first beat of a connection out of the round trips, but counts it for liveness", async () => {
    const { server, port } = await manageServer(400);
    const fleet = new Fleet({ clock: systemClock });
    const prober = new HeartbeatProber(fleet, {
      clock: systemClock,
      ...defaultProberOptions,
      intervalMs: 50,
      log: pino({ level: "silent" }),
    });
    cleanups.push(() => {
      prober.stop();
      fleet.close();
      server.close();
    });
    const worker = prober.addTarget({ host: "127.0.0.1", port });
    await pollUntil(() => (worker.roundTrips.size >= 5 ? true : undefined), {
      timeoutMs: 10_000,
      what: "5 beats",
    });
    expect(Math.max(...worker.roundTrips.lastValues(100))).toBeLessThan(300);
    expect(worker.liveness.current.state).toBe("healthy");
    expect(worker.liveness.current.lastHeartbeatAtMs).toBeGreaterThan(0);
  });
});

describe("HeartbeatProber with a fake clock", () => {
  it("turns beat outcomes into liveness through the fleet: late, unresponsive, healthy again, gone", async () => {
    const clock = new FakeClock(0);
    const events = new EventLog(systemClock);
    const fleet = new Fleet({ clock, events });
    // The worker's answers, by call: two answers, three misses, one answer, then refused.
    const ok: Reply = { after: 3, metrics: {} };
    const worker = fakeWorker(clock, [
      ok,
      ok,
      "never",
      "never",
      "never",
      ok,
      { after: 1, fail: "connection" },
    ]);
    const connect = () => worker.client;
    const prober = new HeartbeatProber(fleet, {
      ...defaultProberOptions,
      log: pino({ level: "silent" }),
      clock,
      connect,
    });
    const probed = prober.addTarget({ host: "127.0.0.1", port: 7071 });
    await clock.advance(10_000);
    prober.stop();
    expect(
      events
        .list({ kind: "liveness" })
        .reverse()
        .map((e) => e.toState),
    ).toEqual(["healthy", "late", "unresponsive", "healthy", "gone"]);
    expect(probed.roundTrips.lastValues(10)).toEqual([3, 3, 3]);
  });
});
