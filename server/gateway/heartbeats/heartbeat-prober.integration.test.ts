import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { ShutdownRequestSchema } from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { Fleet } from "../fleet/fleet.js";
import { parseHostPort } from "../../shared/net/host-port.js";
import { pollUntil } from "../../testing/poll.js";
import { startStallwatch, type StallwatchProcess } from "../../testing/spawn-stallwatch.js";
import { HeartbeatProber } from "./heartbeat-prober.js";
import { EventLog } from "../events/event-log.js";
import { systemClock } from "../../shared/clock/clock.js";

/**
 * The prober's entry points on the main thread (probe threads 0) against a
 * real worker: probeNow beats at once instead of at the worker's next turn,
 * the first beat's round trip leaves connection set-up out, and clientFor
 * hands out a Manage client for actions apart from the probe shard's.
 */
describe("HeartbeatProber on the calling thread", () => {
  let worker: StallwatchProcess;
  let prober: HeartbeatProber;
  const events = new EventLog(systemClock);
  const fleet = new Fleet({ clock: systemClock, events });

  beforeAll(async () => {
    worker = await startStallwatch(["worker", "--listen", "127.0.0.1:0", "--id", "prober-1"]);
    prober = new HeartbeatProber(fleet, {
      clock: systemClock,
      // A minute between beats: only probeNow can make the first one come soon.
      intervalMs: 60_000,
      deadlineMs: 1000,
      unresponsiveAfter: 3,
      retentionMs: 600_000,
      maxBackoffMs: 60_000,
      log: pino({ level: "silent" }),
    });
  });

  afterAll(async () => {
    prober.stop();
    await worker.stop();
  });

  it("beats at once on probeNow; the first beat on a connection is liveness, the next one latency", async () => {
    const address = String(worker.listening.address);
    const w = prober.addTarget(parseHostPort(address));
    prober.probeNow(address);
    await pollUntil(() => (w.liveness.current.state === "healthy" ? true : undefined), {
      timeoutMs: 3000,
      what: "a healthy worker",
    });
    expect(events.list({}).at(-1)).toMatchObject({ fromState: "pending", toState: "healthy" });
    expect(Object.keys(w.metrics).length).toBeGreaterThan(0);
    // The peer's warm-up rides on the first call: kept out of the latency series.
    expect(w.roundTrips.size).toBe(0);
    prober.probeNow(address);
    await pollUntil(() => (w.roundTrips.size === 1 ? true : undefined), {
      timeoutMs: 3000,
      what: "the second beat's round trip",
    });
  });

  it("hands out a separate client for shutdown actions", async () => {
    const address = String(worker.listening.address);
    const client = prober.clientFor(address);
    expect(client).toBeDefined();
    expect(prober.clientFor("127.0.0.1:1")).toBeUndefined();
    const r = await client?.shutdown(
      create(ShutdownRequestSchema, { reason: "test", cancelSessions: false }),
      2000,
    );
    expect(r?.ok).toBe(true);
  });
});
