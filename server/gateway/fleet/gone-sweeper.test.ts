import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { HeartbeatProber } from "../heartbeats/heartbeat-prober.js";
import { createFleetWorker } from "./fleet-worker.js";
import { Fleet } from "./fleet.js";
import { NEVER_ANSWERED_RETENTION_MS, sweepGoneWorkers } from "./gone-sweeper.js";

const opts = { unresponsiveAfter: 3, sampleCapacity: 10 };

describe("sweepGoneWorkers", () => {
  it("removes discovered workers gone longer than the retention, keeps static ones and recent ones", () => {
    const fleet = new Fleet();
    const prober = new HeartbeatProber(fleet, {
      intervalMs: 1000,
      deadlineMs: 1000,
      unresponsiveAfter: 3,
      retentionMs: 10_000,
      maxBackoffMs: 1000,
      log: pino({ level: "silent" }),
    });
    const old = createFleetWorker("beam-old", "beam", "x", opts, 0);
    old.liveness.gone(1_000, "status stream closed");
    const recent = createFleetWorker("beam-new", "beam", "y", opts, 0);
    recent.liveness.gone(50_000, "status stream closed");
    const configured = createFleetWorker("127.0.0.1:1", "spark", "127.0.0.1:1", opts, 0);
    configured.liveness.gone(1_000, "connection refused");
    const healthy = createFleetWorker("ok", "agent", "z", opts, 0);
    healthy.liveness.answered(1_000);
    for (const w of [old, recent, configured, healthy]) fleet.add(w);
    expect(sweepGoneWorkers(fleet, prober, new Set(["127.0.0.1:1"]), 30_000, 60_000)).toEqual([
      "beam-old",
    ]);
    expect(
      fleet
        .all()
        .map((w) => w.id)
        .sort(),
    ).toEqual(["127.0.0.1:1", "beam-new", "ok"]);
    prober.stop();
  });

  it("removes an agent row that never answered after a minute, not an hour", () => {
    const fleet = new Fleet();
    const prober = new HeartbeatProber(fleet, {
      intervalMs: 1000,
      deadlineMs: 1000,
      unresponsiveAfter: 3,
      retentionMs: 10_000,
      maxBackoffMs: 1000,
      log: pino({ level: "silent" }),
    });
    const junk = createFleetWorker("junk", "agent", "a", opts, 0);
    junk.liveness.gone(1_000, "agent stream closed");
    const real = createFleetWorker("real", "agent", "b", opts, 0);
    real.liveness.answered(500);
    real.liveness.gone(1_000, "agent stream closed");
    for (const w of [junk, real]) fleet.add(w);
    expect(
      sweepGoneWorkers(fleet, prober, new Set(), 3_600_000, 1_000 + NEVER_ANSWERED_RETENTION_MS),
    ).toEqual(["junk"]);
    prober.stop();
  });
});
