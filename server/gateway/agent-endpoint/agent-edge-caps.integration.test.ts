import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Liveness } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { apiClients } from "../../testing/api-clients.js";
import { waitForLiveness } from "../../testing/fleet-client.js";
import { pollUntil } from "../../testing/poll.js";
import { killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../../testing/test-gateway.js";
import { startTestWorker, type TestWorker } from "../../testing/test-worker.js";
import { rogueConnection, startRogueAgent } from "./testing/rogue-agent.js";

/** Compiled by the integration global setup (npm run build). */
const FLOOD_CLIENT = fileURLToPath(
  new URL("../../../dist/server/gateway/agent-endpoint/testing/flood-client.js", import.meta.url),
);
const PER_ADDRESS = 16;
const FLOOD_CONNECTIONS = 300;
const STREAMS_PER_CONNECTION = 4;
const MIB = 1 << 20;

interface FloodSummary {
  open: number;
  refused: Record<string, number>;
  refusedIds: string[];
}

/**
 * Issue 19 item 6: what admitting agents costs is capped, not only how many
 * streams a connection may carry. A flood of 1,200 agent streams over 300
 * connections from 127.0.0.2 (another host, as far as the gateway can tell)
 * meets the per-address connection cap, and a fat Announce from 127.0.0.3
 * meets the memory budget of streams not admitted yet, while an honest
 * reference worker on 127.0.0.1 (a real process, its real agent) joins and
 * reports through it all.
 */
describe("the worker edge caps what admitting agents costs", () => {
  let gateway: TestGateway;
  let worker: TestWorker | undefined;
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    gateway = await startTestGateway({
      flags: {
        "max-worker-connections-per-address": PER_ADDRESS,
        "agent-pending-memory-mib": 2,
      },
    });
  }, 60_000);

  afterAll(async () => {
    for (const c of cleanups) c();
    await Promise.all(
      [worker, gateway].map((p) => p?.stop().catch(() => undefined) ?? Promise.resolve()),
    );
    killAllStarted();
  });

  it("caps a flood's connections per address while an honest agent on another address joins and reports", async () => {
    // Niced, like the flood in agent-flood.integration.test.ts: the attacker
    // would be another machine, not a process starving the one under test.
    const flood = spawn(
      "nice",
      [
        ...["-n", "15", process.execPath, FLOOD_CLIENT, gateway.grpc],
        ...[String(FLOOD_CONNECTIONS), String(STREAMS_PER_CONNECTION), "127.0.0.2"],
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    cleanups.push(() => flood.kill("SIGKILL"));
    const summary = new Promise<FloodSummary>((resolve, reject) => {
      createInterface({ input: flood.stdout }).once("line", (line) =>
        resolve(JSON.parse(line) as FloodSummary),
      );
      flood.once("exit", (code) => reject(new Error(`flood client exited ${code}`)));
    });

    // The honest worker starts while the flood is at its height.
    worker = await startTestWorker({ id: "honest", gateway: gateway.grpc, startTimeoutMs: 45_000 });
    const { fleet } = apiClients(gateway.http);
    await waitForLiveness(fleet, "honest", Liveness.HEALTHY, 30_000);
    for (let i = 0; i < 4; i++) {
      // A deadline, not a timing assert: a gateway that stops answering fails this.
      const res = await fetch(`http://${gateway.http}/healthz`, {
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(200);
    }

    const { open } = await summary;
    // At most PER_ADDRESS connections got in, each with at most 4 agent streams.
    expect(open).toBeLessThanOrEqual(PER_ADDRESS * STREAMS_PER_CONNECTION);
    const metrics = await (await fetch(`http://${gateway.http}/metrics`)).text();
    const refused = Number(
      /^stallwatch_worker_connections_refused_total (\d+)$/m.exec(metrics)?.[1] ?? 0,
    );
    expect(refused).toBeGreaterThanOrEqual(FLOOD_CONNECTIONS - PER_ADDRESS);
    const line = await gateway.waitForLog((l) =>
      /^worker connection refused: 127\.0\.0\.2 already holds/.test(String(l.msg)),
    );
    expect(line.peer).toBe("127.0.0.2");

    // The honest worker reports through its agent (status reports arrive).
    const detail = await pollUntil(
      async () => {
        const d = (await fleet.getWorker({ workerId: "honest" })).detail;
        return d?.worker?.agent?.connected && Number(d.worker.lastStatusAtMs) > 0 ? d : undefined;
      },
      { timeoutMs: 30_000, what: "the honest worker's agent row" },
    );
    expect(detail.worker?.liveness).toBe(Liveness.HEALTHY);

    flood.stdin.end();
    await new Promise((r) => flood.once("exit", r));
    // The flood's address gets its connections back once it leaves.
    const after = rogueConnection(gateway.grpc, "127.0.0.2");
    cleanups.push(() => after.close());
    const back = startRogueAgent(
      after.transport,
      { workerId: "back-again" },
      { answer: () => ({}) },
    );
    await pollUntil(
      async () =>
        (await fleet.listWorkers({})).workers.some((w) => w.id === "back-again") || undefined,
      { timeoutMs: 20_000, what: "an agent from the flood's address once it left" },
    );
    back.close();
  }, 180_000);

  it("refuses a stream whose Announce would take the memory of streams not admitted yet over its budget", async () => {
    const conn = rogueConnection(gateway.grpc, "127.0.0.3");
    cleanups.push(() => conn.close());
    const fat = startRogueAgent(
      conn.transport,
      { workerId: "fat-announce", host: "h".repeat(3 * MIB) },
      { answer: () => ({}) },
    );
    const ended = await fat.ended;
    expect(ended.code).toBe(Code.ResourceExhausted);
    expect(ended.message).toMatch(/have not joined yet already hold 2 MiB/);
    const metrics = await (await fetch(`http://${gateway.http}/metrics`)).text();
    expect(metrics).toMatch(/stallwatch_agent_refusals_total\{reason="memory"\} [1-9]/);
    // The budget was given back: a normal agent from the same address joins.
    const fine = startRogueAgent(conn.transport, { workerId: "slim" }, { answer: () => ({}) });
    const { fleet } = apiClients(gateway.http);
    await pollUntil(
      async () => (await fleet.listWorkers({})).workers.some((w) => w.id === "slim") || undefined,
      { timeoutMs: 20_000, what: "a slim agent after the fat one" },
    );
    fine.close();
  }, 60_000);
});
