import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { WorkerResponseSchema } from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { Liveness } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { fleetClient, waitForLiveness } from "../../testing/fleet-client.js";
import { startBlackhole, unusedPort, type Peer } from "../../testing/misbehaving-peers.js";
import { startGrpcJsManage } from "../../testing/grpc-js-manage.js";
import { killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../../testing/test-gateway.js";
import { startTestWorkers, type TestWorker } from "../../testing/test-worker.js";

/**
 * Probing on worker threads (--probe-threads), real processes: the same
 * liveness as on one thread, workers spread over threads, beat records
 * reaching the main thread's fleet.
 */
describe("gateway probing on worker threads", () => {
  let alpha: TestWorker;
  let beta: TestWorker;
  let blackhole: Peer;
  let refused: string;
  let constant: { address: string; stop(): void };
  const gateways: TestGateway[] = [];

  /** A grpc-js Manage server whose answer never changes, byte for byte. */
  const constantServer = () =>
    startGrpcJsManage((_call, cb) =>
      cb(
        null,
        create(WorkerResponseSchema, {
          manage: { case: "heartbeat", value: { metrics: { active_sessions: "4" } } },
        }),
      ),
    );

  async function gateway(threads: string, targets: string[]) {
    const g = await startTestGateway({
      workers: targets,
      flags: { "probe-threads": threads, "interval-ms": 300, "deadline-ms": 300 },
    });
    gateways.push(g);
    return g;
  }

  beforeAll(async () => {
    // The misbehaving targets first: they take no time next to two processes.
    [blackhole, refused, constant] = await Promise.all([
      startBlackhole(),
      unusedPort(),
      constantServer(),
    ]);
    [alpha, beta] = await startTestWorkers(["alpha", "beta"]);
  });

  afterAll(async () => {
    await Promise.all([alpha, beta, ...gateways].map((p) => p.stop().catch(() => undefined)));
    constant.stop();
    await blackhole.close();
    killAllStarted();
  });

  it("judges every kind of target the same with 3 probe threads", async () => {
    const alphaId = alpha.address;
    const g = await gateway("3", [
      alphaId,
      beta.address,
      blackhole.address,
      refused,
      constant.address,
    ]);
    expect(g.listening.probeThreads).toBe(3);
    const client = fleetClient(g.http);
    const healthy = await waitForLiveness(client, alphaId, Liveness.HEALTHY);
    expect(Object.keys(healthy.metrics).length).toBeGreaterThan(0);
    expect((await waitForLiveness(client, refused, Liveness.GONE)).livenessReason).toBe(
      "connection refused",
    );
    expect(
      (await waitForLiveness(client, blackhole.address, Liveness.UNRESPONSIVE)).livenessReason,
    ).toMatch(/3 missed heartbeats in a row \(no answer within 300 ms\)/);

    // Repeated identical answers keep the metrics and keep adding samples.
    await waitForLiveness(client, constant.address, Liveness.HEALTHY);
    await new Promise((r) => setTimeout(r, 1500));
    const { workers } = await client.listWorkers({});
    const same = workers.find((w) => w.id === constant.address);
    expect(same?.metrics).toEqual({ active_sessions: "4" });
    expect(same?.latency?.samples).toBeGreaterThanOrEqual(4);

    // A frozen worker turns unresponsive, then healthy once it thaws.
    process.kill(alpha.pid, "SIGSTOP");
    try {
      await waitForLiveness(client, alphaId, Liveness.UNRESPONSIVE);
    } finally {
      process.kill(alpha.pid, "SIGCONT");
    }
    expect((await waitForLiveness(client, alphaId, Liveness.HEALTHY)).livenessReason).toBe(
      "heartbeats answered again",
    );
  });

  it("probes on the main thread with --probe-threads 0", async () => {
    const betaId = beta.address;
    const g = await gateway("0", [betaId]);
    expect(g.listening.probeThreads).toBe(0);
    await waitForLiveness(fleetClient(g.http), betaId, Liveness.HEALTHY);
  });

  it("refuses a thread count it cannot use, saying why", () => {
    const cli = fileURLToPath(new URL("../../../bin/stallwatch.js", import.meta.url));
    for (const bad of ["99", "two"]) {
      const run = spawnSync(process.execPath, [cli, "gateway", "--probe-threads", bad], {
        encoding: "utf8",
        timeout: 15_000,
      });
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/--probe-threads: expected a whole number from 0 to 16/);
    }
  });
});
