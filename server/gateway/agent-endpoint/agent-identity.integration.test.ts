import http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionStatus, type Action } from "../../../gen/stallwatch/v1/control_pb.js";
import { Liveness } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { engineSays } from "../../engine/execute-driver.js";
import { apiClients } from "../../testing/api-clients.js";
import { waitForLiveness } from "../../testing/fleet-client.js";
import { pollUntil } from "../../testing/poll.js";
import { killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../../testing/test-gateway.js";
import { startTestWorker, type TestWorker } from "../../testing/test-worker.js";
import type { CliFlags } from "../../testing/cli-flags.js";
import { arrowBatch, clientsFor, openSession } from "../../testing/protocol-fixtures.js";
import { WORKER_H2_LIMITS } from "../../shared/net/worker-h2-server.js";
import { rogueConnection, startRogueAgent } from "./testing/rogue-agent.js";

const AGENT_TOKEN = "edge-agent-token-0123456789";
const OPERATOR = "edge-operator-token-0123";

/**
 * Worker identity against hostile peers, with real processes: a gateway
 * requiring an agent token, real workers with agents, and hand-driven
 * impostor streams over real sockets.
 */
describe("worker identity at the agent endpoint", () => {
  let gateway: TestGateway;
  let w1: TestWorker;
  let w2: TestWorker;
  const started: TestWorker[] = [];
  const worker = async (id: string, flags?: CliFlags) => {
    const p = await startTestWorker({
      id,
      gateway: gateway.grpc,
      flags,
      env: { STALLWATCH_AGENT_TOKEN: AGENT_TOKEN },
    });
    started.push(p);
    return p;
  };

  let staticAddress: string;

  beforeAll(async () => {
    const staticWorker = await startTestWorker({ id: "s1" });
    started.push(staticWorker);
    staticAddress = staticWorker.address;
    gateway = await startTestGateway({
      operatorToken: OPERATOR,
      workers: [staticAddress],
      env: { STALLWATCH_AGENT_TOKEN: AGENT_TOKEN },
    });
    [w1, w2] = await Promise.all([worker("w1"), worker("w2")]);
    const { fleet } = apiClients(gateway.http);
    await Promise.all([
      waitForLiveness(fleet, "w1", Liveness.HEALTHY),
      waitForLiveness(fleet, "w2", Liveness.HEALTHY),
    ]);
  });
  afterAll(async () => {
    await Promise.all([...started, gateway].map((p) => p.stop().catch(() => undefined)));
    killAllStarted();
  });

  it("refuses agents without the token", async () => {
    const conn = rogueConnection(gateway.grpc);
    const rogue = startRogueAgent(conn.transport, { workerId: "no-token" });
    expect(await rogue.ended).toMatchObject({ code: Code.Unauthenticated });
    const wrong = startRogueAgent(conn.transport, { workerId: "bad" }, { token: "x".repeat(20) });
    expect((await wrong.ended).code).toBe(Code.Unauthenticated);
    conn.close();
  });

  it("refuses an impostor of a live id; the real agent keeps its row and the cancel reaches it", async () => {
    const { fleet, control } = apiClients(gateway.http, OPERATOR);
    const conn = rogueConnection(gateway.grpc);
    // Same id, its own (dead) Manage address.
    const impostor = startRogueAgent(
      conn.transport,
      { workerId: "w1", manageAddress: "127.0.0.1:9", pid: 666, host: "evil" },
      { token: AGENT_TOKEN, answer: () => ({}) },
    );
    const refused = await impostor.ended;
    expect(refused.code).toBe(Code.AlreadyExists);
    expect(refused.message).toMatch(/bound to a live stream/);
    // Same id with another worker's Manage address: Drain w1 must never reach w2.
    const redirect = startRogueAgent(
      conn.transport,
      { workerId: "w1", manageAddress: w2.address },
      { token: AGENT_TOKEN },
    );
    expect((await redirect.ended).code).toBe(Code.PermissionDenied);
    // A new id claiming w2's Manage address is refused too.
    const alias = startRogueAgent(
      conn.transport,
      { workerId: "w2-alias", manageAddress: w2.address },
      { token: AGENT_TOKEN },
    );
    expect((await alias.ended).message).toMatch(/belongs to live worker "w2"/);
    conn.close();

    const row = (await fleet.getWorker({ workerId: "w1" })).detail?.worker;
    expect(row?.agent?.pid).toBe(w1.pid);
    expect(row?.address).toBe(w1.address);
    expect((await fleet.listWorkers({})).workers.map((w) => w.id)).not.toContain("w2-alias");
    await gateway.waitForLog((l) => l.msg === "agent refused: " + refused.message);
    const { events } = await fleet.listEvents({ workerId: "w1" });
    expect(events.some((e) => /refused/.test(e.summary))).toBe(true);

    // The real hung session is cancelled on the real worker.
    const { udf } = clientsFor(w1.address);
    const { driver } = await openSession(udf, { fn: "hang" });
    driver.send(engineSays.data(arrowBatch([1n])));
    const sessionId = await pollUntil(
      async () =>
        (await fleet.getWorker({ workerId: "w1" })).detail?.sessions[0]?.session?.sessionId,
      { timeoutMs: 15_000, what: "the hung session to be reported" },
    );
    await control.cancelSession({
      actionId: "edge-c1",
      workerId: "w1",
      sessionId,
      reason: "test",
      graceMs: 500,
    });
    const last = await finalAction(control, "edge-c1");
    expect(last?.status).toBe(ActionStatus.SUCCEEDED);
    await w1.waitForLog((l) => l.msg === "cancel requested through the agent");
    driver.abort();

    // "Drain w1" reaches w1 and nobody else.
    await control.drainWorker({ actionId: "edge-d1", workerId: "w1", reason: "test" });
    expect((await finalAction(control, "edge-d1"))?.status).toBe(ActionStatus.SUCCEEDED);
    expect(await w1.exited).toBe(0);
    await waitForLiveness(fleet, "w2", Liveness.HEALTHY);
    expect(w2.child.exitCode).toBeNull();

    // And the refusals are counted.
    const metrics = await (await fetch(`http://${gateway.http}/metrics`)).text();
    expect(metrics).toMatch(/stallwatch_agent_refusals_total\{reason="id_in_use"\} [1-9]/);
    expect(metrics).toMatch(/stallwatch_agent_refusals_total\{reason="token"\} [1-9]/);
  });

  it("lets a worker whose old stream is proven dead take its id back, closing the old stream", async () => {
    const { fleet } = apiClients(gateway.http);
    const frozen = await worker("w3");
    await waitForLiveness(fleet, "w3", Liveness.HEALTHY);
    frozen.child.kill("SIGSTOP");
    try {
      const fresh = await worker("w3");
      await gateway.waitForLog(
        (l) => l.msg === "worker id taken over from a dead stream" && l.worker === "w3",
        20_000,
      );
      const row = await pollUntil(
        async () => {
          const w = (await fleet.getWorker({ workerId: "w3" })).detail?.worker;
          return w?.agent?.pid === fresh.pid && w.agent.connected ? w : undefined;
        },
        { timeoutMs: 15_000, what: "w3's row to belong to the new process" },
      );
      expect(row.address).toBe(fresh.address);
    } finally {
      frozen.child.kill("SIGKILL");
    }
  });

  it("replaces a wildcard Manage host with the peer's and refuses another host's address", async () => {
    const { fleet } = apiClients(gateway.http);
    const port = 19411;
    await worker("wild", { advertise: `0.0.0.0:${port}` });
    const row = await pollUntil(
      async () => (await fleet.listWorkers({})).workers.find((w) => w.id === "wild"),
      { what: "the wildcard worker's row" },
    );
    expect(row.agent?.manageAddress).toBe(`127.0.0.1:${port}`);
    const conn = rogueConnection(gateway.grpc);
    const foreign = startRogueAgent(
      conn.transport,
      { workerId: "far", manageAddress: "10.20.30.40:7071" },
      { token: AGENT_TOKEN },
    );
    const result = await foreign.ended;
    expect(result.code).toBe(Code.PermissionDenied);
    expect(result.message).toMatch(/another host than the agent.*--trust-announced-address/);
    conn.close();
  });

  it("refuses a static worker's id to an agent announcing another address", async () => {
    const conn = rogueConnection(gateway.grpc);
    const rogue = startRogueAgent(
      conn.transport,
      // A static target's id is its address.
      { workerId: staticAddress, manageAddress: "127.0.0.1:9" },
      { token: AGENT_TOKEN },
    );
    const result = await rogue.ended;
    expect(result.code).toBe(Code.AlreadyExists);
    expect(result.message).toMatch(/static Spark worker at .*; announce that Manage address/);
    const { fleet } = apiClients(gateway.http);
    const row = (await fleet.getWorker({ workerId: staticAddress })).detail?.worker;
    expect(row?.agent).toBeUndefined();
    conn.close();
  });

  it("advertises a bounded number of HTTP/2 streams on --grpc", async () => {
    const session = http2.connect(`http://${gateway.grpc}`);
    try {
      const settings = await new Promise<http2.Settings>((resolve, reject) => {
        session.once("remoteSettings", resolve);
        session.once("error", reject);
      });
      expect(settings.maxConcurrentStreams).toBe(WORKER_H2_LIMITS.maxConcurrentStreams);
    } finally {
      session.destroy();
    }
  });
});

async function finalAction(
  control: ReturnType<typeof apiClients>["control"],
  actionId: string,
): Promise<Action | undefined> {
  let last: Action | undefined;
  for await (const update of control.watchAction({ actionId }, { timeoutMs: 20_000 })) {
    if (update.action) last = update.action;
  }
  return last;
}
