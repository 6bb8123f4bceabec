import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Liveness } from "../../gen/stallwatch/v1/fleet_pb.js";
import { fleetClient, waitForLiveness } from "../testing/fleet-client.js";
import { pollUntil } from "../testing/poll.js";
import {
  startBlackhole,
  startHttp1Server,
  unusedPort,
  type Peer,
} from "../testing/misbehaving-peers.js";
import { killAllStarted } from "../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../testing/test-gateway.js";
import { startTestWorkers, type TestWorker } from "../testing/test-worker.js";

/**
 * The walking skeleton's whole path with real processes: two reference
 * workers and three bad targets, watched by one gateway over real sockets,
 * read through the browser's Connect API.
 */
describe("gateway watching real workers", () => {
  let alpha: TestWorker;
  let beta: TestWorker;
  let gateway: TestGateway;
  let blackhole: Peer;
  let http1: Peer;
  let refused: string;
  let client: ReturnType<typeof fleetClient>;
  let alphaId: string;
  let betaId: string;

  beforeAll(async () => {
    [[alpha, beta], blackhole, http1, refused] = await Promise.all([
      startTestWorkers(["alpha", "beta"]),
      startBlackhole(),
      startHttp1Server(),
      unusedPort(),
    ]);
    alphaId = alpha.address;
    betaId = beta.address;
    gateway = await startTestGateway({
      workers: [alphaId, betaId, blackhole.address, http1.address, refused],
    });
    client = fleetClient(gateway.http);
  });

  afterAll(async () => {
    await Promise.all(
      [alpha.stop(), beta.stop(), gateway.stop()].map((p) => p.catch(() => undefined)),
    );
    await Promise.all([blackhole.close(), http1.close()]);
    killAllStarted();
  });

  it("lists both workers as healthy with latency and worker metrics", async () => {
    await waitForLiveness(client, alphaId, Liveness.HEALTHY);
    await waitForLiveness(client, betaId, Liveness.HEALTHY);
    // The first beat of a connection counts for liveness, not latency (issue 11, bug 9).
    const a = await pollUntil(
      async () =>
        (await client.listWorkers({}, { timeoutMs: 2000 })).workers.find(
          (w) => w.id === alphaId && (w.latency?.samples ?? 0) > 0,
        ),
      { what: `a latency sample of ${alphaId}` },
    );
    expect(a.address).toBe(alphaId);
    expect(a.latency?.samples).toBeGreaterThan(0);
    expect(a.latency?.p99Ms).toBeGreaterThan(0);
    expect(Number(a.metrics.uptime_ms)).toBeGreaterThan(0);
    expect(a.metrics.active_sessions).toBe("0");
    expect(Number(a.metrics.rss_bytes)).toBeGreaterThan(0);
    expect(a.lastHeartbeatAtMs).toBeGreaterThan(0n);
  });

  it("shows a refused target as gone, saying so", async () => {
    const w = await waitForLiveness(client, refused, Liveness.GONE);
    expect(w.livenessReason).toBe("connection refused");
  });

  it("shows a target that is not a gRPC server as gone with a protocol error", async () => {
    const w = await waitForLiveness(client, http1.address, Liveness.GONE);
    expect(w.livenessReason).toMatch(/protocol error|not a gRPC server/);
  });

  it("catches a target that accepts TCP and never answers with the deadline", async () => {
    const w = await waitForLiveness(client, blackhole.address, Liveness.UNRESPONSIVE, 15_000);
    expect(w.livenessReason).toMatch(/3 missed heartbeats in a row \(no answer within 1000 ms\)/);
    expect(w.lastHeartbeatAtMs).toBe(0n);
  });

  it("marks a frozen worker unresponsive, and healthy again once it thaws", async () => {
    process.kill(beta.pid, "SIGSTOP");
    try {
      const frozen = await waitForLiveness(client, betaId, Liveness.UNRESPONSIVE, 15_000);
      expect(frozen.consecutiveMisses).toBeGreaterThanOrEqual(3);
      // The other worker kept beating on time meanwhile.
      const { workers } = await client.listWorkers({});
      const a = workers.find((w) => w.id === alphaId);
      expect(a?.liveness).toBe(Liveness.HEALTHY);
      expect(Date.now() - Number(a?.lastHeartbeatAtMs)).toBeLessThan(2500);
    } finally {
      process.kill(beta.pid, "SIGCONT");
    }
    const thawed = await waitForLiveness(client, betaId, Liveness.HEALTHY, 15_000);
    expect(thawed.livenessReason).toBe("heartbeats answered again");
    // The worker page marks each miss at its time, as recorded, not inferred from gaps.
    const detail = (await client.getWorker({ workerId: betaId })).detail;
    const misses = (detail?.missedBeats?.timesMs ?? []).map(Number);
    expect(misses.length).toBeGreaterThanOrEqual(3);
    const answered = (detail?.roundTripsMs?.timesMs ?? []).map(Number);
    expect(misses.every((t) => !answered.includes(t))).toBe(true);
    // Present for every worker, so the page never falls back to guessing from gaps.
    const alpha = (await client.getWorker({ workerId: alphaId })).detail;
    expect(alpha?.missedBeats).toBeDefined();
  });

  it("shows a killed worker as gone with the reason", async () => {
    alpha.child.kill("SIGKILL");
    await alpha.exited;
    const w = await waitForLiveness(client, alphaId, Liveness.GONE, 10_000);
    expect(w.livenessReason).toMatch(/connection (refused|reset|closed)/);
  });

  it("streams the full fleet first, then deltas", async () => {
    const ac = new AbortController();
    const seen: { full: boolean; ids: string[] }[] = [];
    const timer = setTimeout(() => ac.abort(), 10_000);
    try {
      for await (const msg of client.watchFleet({}, { signal: ac.signal })) {
        seen.push({ full: msg.fullState, ids: msg.workers.map((w) => w.id) });
        if (seen.length >= 2 && seen.at(-1)?.ids.includes(betaId)) break;
      }
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
    expect(seen[0]?.full).toBe(true);
    expect(seen[0]?.ids).toHaveLength(5);
    expect(seen.slice(1).every((m) => !m.full)).toBe(true);
  });
});
