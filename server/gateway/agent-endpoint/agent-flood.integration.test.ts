import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { toJsonString } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SessionOutcome, SessionState } from "../../../gen/stallwatch/v1/agent_pb.js";
import { Liveness } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { SnapshotSchema } from "../../../gen/stallwatch/v1/snapshot_pb.js";
import { apiClients } from "../../testing/api-clients.js";
import { waitForLiveness } from "../../testing/fleet-client.js";
import { pollUntil } from "../../testing/poll.js";
import { killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../../testing/test-gateway.js";
import { startTestWorker, type TestWorker } from "../../testing/test-worker.js";
import { rogueConnection, startRogueAgent, type RogueAgent } from "./testing/rogue-agent.js";

interface FloodSummary {
  open: number;
  refused: Record<string, number>;
  refusedIds: string[];
}

/** Fails fast with the refusal when a rogue stream ends while a test waits on it. */
function whileOpen<T>(agent: RogueAgent, wait: Promise<T>): Promise<T> {
  return Promise.race([
    wait,
    agent.ended.then((r) => {
      throw new Error(`the rogue stream ended: ${String(r.code)} ${r.message}`);
    }),
  ]);
}

const REAL_WORKERS = 20;
/** Compiled by the integration global setup (npm run build). */
const FLOOD_CLIENT = fileURLToPath(
  new URL("../../../dist/server/gateway/agent-endpoint/testing/flood-client.js", import.meta.url),
);
const SECRET = "s3cr3t-Value-42xyz";
const MIB = 1 << 20;

/**
 * Hostile peers against a gateway watching 20 real workers (real processes,
 * real agents, real Manage heartbeats): a flood of 2,000 agent streams from
 * one client on another address (127.0.0.2), fat strings, secrets in every field followed to a snapshot,
 * and megabytes of pathological text — while the real workers' heartbeats
 * must stay on time. The gateway runs without --agent-token, so it also
 * shows the loopback-only default.
 */
describe("hostile agents next to a healthy fleet", () => {
  let gateway: TestGateway;
  let http: string;
  let grpc: string;
  const workers: TestWorker[] = [];
  const ids = Array.from({ length: REAL_WORKERS }, (_, i) => `real-${i}`);
  let startedAtMs = 0;
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    gateway = await startTestGateway({ flags: { "gone-retention-ms": 3000 } });
    ({ http, grpc } = gateway);
    for (let i = 0; i < REAL_WORKERS; i += 5) {
      workers.push(
        ...(await Promise.all(
          ids.slice(i, i + 5).map((id) =>
            // 20 processes starting on a shared 2-core machine.
            startTestWorker({ id, gateway: grpc, startTimeoutMs: 45_000 }),
          ),
        )),
      );
    }
    const { fleet } = apiClients(http);
    await Promise.all(ids.map((id) => waitForLiveness(fleet, id, Liveness.HEALTHY, 30_000)));
    startedAtMs = Date.now();
  }, 240_000);

  /** A rogue agent on a connection of its own, closed after the suite. */
  const rogueAgent = (
    announce: Parameters<typeof startRogueAgent>[1],
    behaviour: Parameters<typeof startRogueAgent>[2],
  ) => {
    const conn = rogueConnection(grpc);
    cleanups.push(() => conn.close());
    return startRogueAgent(conn.transport, announce, behaviour);
  };

  afterAll(async () => {
    for (const c of cleanups) c();
    await Promise.all([...workers, gateway].map((p) => p.stop().catch(() => undefined)));
    killAllStarted();
  });

  /** Each test's window and the gateway's event-loop delay in it, to tell a blocked loop from a starved machine. */
  const phases: { name: string; fromMs: number; toMs: number; loop: string }[] = [];
  let phaseFrom = 0;
  const loopDelay = async () => {
    const text = await (await fetch(`http://${http}/metrics`)).text();
    const ms = (name: string) =>
      Math.round(Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN) * 1000);
    return `p99 ${ms("nodejs_eventloop_delay_p99_seconds")} ms, max ${ms("nodejs_eventloop_delay_max_seconds")} ms`;
  };
  beforeEach(async () => {
    await loopDelay(); // resets the window
    phaseFrom = Date.now();
  });
  afterEach(async (ctx) => {
    phases.push({
      name: ctx.task.name.slice(0, 40),
      fromMs: phaseFrom,
      toMs: Date.now(),
      loop: await loopDelay(),
    });
  });

  it("says at start that agents are accepted from loopback only", async () => {
    await gateway.waitForLog((l) => /no --agent-token/.test(String(l.msg)));
  });

  it("survives 2,000 agent streams from one client: /healthz answers, refusals are counted and leave no rows", async () => {
    // The flood comes from its own process, so this one only measures.
    // Niced: on this 2-core machine the attacker shares cores with the workers
    // under test; in production it is another machine, and starving the
    // workers' processes would measure the machine, not the gateway.
    // From 127.0.0.2, another host as far as the gateway can tell: the real
    // workers on 127.0.0.1 must not share its per-address connection cap.
    const flood = spawn(
      "nice",
      ["-n", "15", process.execPath, FLOOD_CLIENT, grpc, "200", "10", "127.0.0.2"],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    cleanups.push(() => flood.kill("SIGKILL"));
    const summary = new Promise<{
      open: number;
      refused: Record<string, number>;
      refusedIds: string[];
    }>((resolve, reject) => {
      createInterface({ input: flood.stdout }).once("line", (line) =>
        resolve(JSON.parse(line) as FloodSummary),
      );
      flood.once("exit", (code) => reject(new Error(`flood client exited ${code}`)));
    });
    // A gateway that stops answering fails this. The deadline was 2 s, which a
    // fresh-clone CI run missed under its own parallel load on 2 cores; how long
    // the flood holds the loop is a figure (event-loop delay per phase, below),
    // not something to assert with a tight clock.
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`http://${http}/healthz`, { signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 250));
    }
    const { open, refused, refusedIds } = await summary;
    expect(open + refusedIds.length).toBe(2000);
    // Most never got a connection (64 per address; refused as accepted), and
    // those on one saw the per-connection cap.
    expect(refusedIds.length).toBeGreaterThan(1000);
    expect(refused.ResourceExhausted ?? 0).toBeGreaterThan(0);
    const { fleet } = apiClients(http);
    const rowIds = new Set((await fleet.listWorkers({})).workers.map((w) => w.id));
    expect(refusedIds.filter((id) => rowIds.has(id))).toEqual([]);
    // Admitted but silent streams have no row either.
    expect([...rowIds].filter((id) => id.startsWith("flood-"))).toEqual([]);
    const metrics = await (await fetch(`http://${http}/metrics`)).text();
    expect(metrics).toMatch(/stallwatch_agent_refusals_total\{reason="cap_connection"\} [1-9]/);
    expect(metrics).toMatch(/^stallwatch_worker_connections_refused_total [1-9]/m);

    flood.stdin.end();
    await new Promise((r) => flood.once("exit", r));
    // The admitted junk never answered its first status request: it is closed
    // after the status deadline and never gets a row at all.
    await pollUntil(
      async () =>
        (await fleet.listWorkers({})).workers.some((w) => w.id.startsWith("flood-"))
          ? undefined
          : true,
      { timeoutMs: 10_000, what: "no flood rows" },
    );
  }, 90_000);

  it("cuts a 3 MB host with a visible marker in the fleet listing", async () => {
    const fat = rogueAgent(
      { workerId: "fat", host: "h".repeat(3_000_000) },
      { answer: () => ({}) },
    );
    const { fleet } = apiClients(http);
    const row = await whileOpen(
      fat,
      pollUntil(async () => (await fleet.listWorkers({})).workers.find((w) => w.id === "fat"), {
        what: "the fat row",
      }),
    );
    expect(row.agent?.host.length).toBeLessThan(400);
    expect(row.agent?.host).toMatch(/…\[truncated \d+ chars\]$/);
  });

  it("redacts secrets in every field an agent sends, all the way into a snapshot", async () => {
    const leaky = rogueAgent(
      {
        workerId: "leaky",
        host: `db password=${SECRET}`,
        runtime: `node --token ${SECRET}`,
        version: `v1 KEY_SECRET=${SECRET}`,
      },
      {
        answer: (request) => ({
          error: `partial: Authorization: Bearer ${SECRET}`,
          sessions: [
            {
              sessionId: `sess token=${SECRET}`,
              udfName: `udf --password ${SECRET}`,
              state: SessionState.PROCESSING,
              taskContext: { password: SECRET, url: `jdbc:postgresql://app:${SECRET}@db/x` },
            },
          ],
          finished: [
            {
              sessionId: "f1",
              errorMessage: `failed with api_key=${SECRET}`,
              taskContext: { DB_TOKEN: SECRET },
              outcome: SessionOutcome.FAILED,
            },
          ],
          ...(request.includeThreads
            ? {
                dump: {
                  takenAtMs: BigInt(Date.now()),
                  threads: [
                    {
                      threadId: "t1",
                      name: `worker secret=${SECRET}`,
                      state: `blocked pwd=${SECRET}`,
                      frames: [`connect(password=${SECRET})`, `https://u:${SECRET}@h/`],
                    },
                  ],
                },
              }
            : {}),
        }),
      },
    );
    const { fleet, snapshots } = apiClients(http);
    await whileOpen(
      leaky,
      pollUntil(
        async () => {
          const d = (await fleet.getWorker({ workerId: "leaky" })).detail;
          return d?.latestDump && d.sessions.length > 0 && d.finished.length > 0 ? true : undefined;
        },
        { timeoutMs: 30_000, what: "leaky's sessions and dump" },
      ),
    );
    const { info } = await snapshots.createSnapshot({ workerId: "leaky", note: "edge test" });
    const { snapshot } = await snapshots.getSnapshot({ id: info?.id ?? "" });
    const json = toJsonString(SnapshotSchema, snapshot ?? ({} as never));
    expect(json).toContain("leaky");
    expect(json).toContain("[REDACTED]");
    expect(json).not.toContain(SECRET);
    const listing = JSON.stringify(
      (await fleet.listWorkers({})).workers.find((w) => w.id === "leaky"),
      (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v),
    );
    expect(listing).not.toContain(SECRET);
  }, 60_000);

  it("ingests 1 MiB of a, a 1 MiB line of = and deep brackets at the cap, repeatedly", async () => {
    const agent = rogueAgent(
      { workerId: "hostile-text", host: "=".repeat(MIB) },
      {
        // At the limits: 1 Mi chars in a sessions-only report, the rest when threads are asked for.
        answer: (request) => ({
          error: "a".repeat(MIB),
          ...(request.includeThreads
            ? {
                dump: {
                  threads: [
                    {
                      threadId: "t",
                      name: "=".repeat(MIB),
                      frames: ["[".repeat(MIB / 2) + "]".repeat(MIB / 2)],
                    },
                  ],
                },
              }
            : {}),
        }),
      },
    );
    const { fleet } = apiClients(http);
    await whileOpen(
      agent,
      pollUntil(
        () => (agent.requests.filter((r) => r.includeThreads).length >= 2 ? true : undefined),
        {
          timeoutMs: 40_000,
          what: "status rounds of hostile text, two of them with threads",
        },
      ),
    );
    const row = (await fleet.getWorker({ workerId: "hostile-text" })).detail;
    expect(row?.latestDump?.threads[0]?.thread?.name).toMatch(/…\[truncated \d+ chars\]$/);
    expect(row?.worker?.liveness).toBe(Liveness.HEALTHY);
  }, 60_000);

  it("cuts off a stream that sends reports nobody asked for", async () => {
    const spam = rogueAgent(
      { workerId: "spammer" },
      {
        unsolicited: Array.from({ length: 50 }, (_, i) => ({
          requestId: `x${i}`,
          error: "a".repeat(MIB),
        })),
      },
    );
    const result = await spam.ended;
    expect(result.code).toBe(Code.ResourceExhausted);
    expect(result.message).toMatch(/answers nobody asked for/);
  });

  it("kept every real worker's heartbeats on time through all of the above", async () => {
    const { fleet } = apiClients(http);
    const { events } = await fleet.listEvents({ kind: "liveness", limit: 2000 });
    const bad = events.filter(
      (e) => ids.includes(e.workerId) && Number(e.atMs) >= startedAtMs && e.toState !== "healthy",
    );
    const during = bad.map((e) => {
      const phase = phases.find((p) => Number(e.atMs) >= p.fromMs && Number(e.atMs) <= p.toMs);
      return `${e.summary} during "${phase?.name ?? "between tests"}"`;
    });
    expect(during, `gateway event-loop p99 per test: ${JSON.stringify(phases)}`).toEqual([]);
    const { workers: rows } = await fleet.listWorkers({});
    for (const id of ids) expect(rows.find((w) => w.id === id)?.liveness).toBe(Liveness.HEALTHY);
  });
});
