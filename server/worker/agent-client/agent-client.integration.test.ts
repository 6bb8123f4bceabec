import { hostname } from "node:os";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CancelSessionSchema,
  CommandOutcome,
  SessionState,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import { Liveness, WorkerKind } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { parseHostPort } from "../../shared/net/host-port.js";
import { startBlackhole } from "../../testing/misbehaving-peers.js";
import { fleetClient, waitForLiveness } from "../../testing/fleet-client.js";
import { pollUntil } from "../../testing/poll.js";
import { startStallwatch, type StallwatchProcess } from "../../testing/spawn-stallwatch.js";
import {
  expectRefusedPeerHandled,
  FAST_RECONNECT,
  QUICK_RETRY,
  gatewayForDescribe,
  startGateway,
  stoppedAfterEach,
  stopsPromptly,
  waitConnected,
} from "../dial-out/testing/client-harness.js";
import { STALLWATCH_VERSION } from "../../shared/version.js";
import { startAgentClient } from "./agent-client.js";
import type { AgentAnnounce } from "./announce.js";
import { FakeStatusSource } from "../status-report/testing/fake-status-source.js";
import { startInProcessGateway, type InProcessGateway } from "../../testing/in-process-gateway.js";
import { memoryLog } from "./testing/memory-log.js";
import { systemClock } from "../../shared/clock/clock.js";

/*
 * The agent client runs in this process against a real gateway (a real
 * `stallwatch gateway` process, or one built in-process where the test needs
 * the gateway's agent channels); the worker machinery it reports on is a
 * deterministic fake (FakeStatusSource), since that is built elsewhere.
 */

const announceFor = (workerId: string, manageAddress = ""): AgentAnnounce => ({
  workerId,
  manageAddress,
  pid: process.pid,
  host: hostname(),
  runtime: `node ${process.version}`,
  version: STALLWATCH_VERSION,
  startedAtMs: Date.now(),
  capabilities: ["sessions", "thread-dump", "cancel-session"],
});

const agent = stoppedAfterEach(startAgentClient);

describe("the agent client against a real gateway process", () => {
  const gateway = gatewayForDescribe();

  it("shows up as an AGENT worker, healthy by status round trips, and follows a gateway restart on the same ports", async () => {
    const { log, lines, waitFor } = memoryLog();
    const http = String(gateway.current.listening.http);
    const grpc = String(gateway.current.listening.grpc);
    const a = agent({
      clock: systemClock,
      gatewayAddress: parseHostPort(grpc),
      announce: announceFor("agent-fake-1"),
      source: new FakeStatusSource(Date.now()),
      log,
      backoff: FAST_RECONNECT,
    });

    const w = await waitForLiveness(fleetClient(http), "agent-fake-1", Liveness.HEALTHY, 20_000);
    expect(w.kind).toBe(WorkerKind.AGENT);
    expect(w.latency?.samples).toBeGreaterThan(0);
    expect(w.agent).toMatchObject({
      connected: true,
      manageAddress: "",
      pid: process.pid,
      version: STALLWATCH_VERSION,
      capabilities: ["sessions", "thread-dump", "cancel-session"],
    });
    expect(w.agent?.runtime).toBe(`node ${process.version}`);
    await waitConnected(a, true);
    await gateway.current.waitForLog(
      (l) => l.msg === "agent connected" && l.worker === "agent-fake-1",
    );

    // The gateway goes away: the agent notices and says why.
    await gateway.current.stop();
    await waitConnected(a, false);
    const lost = await waitFor(
      (l) => typeof l.msg === "string" && /disconnected from the gateway/.test(l.msg),
      "disconnect",
    );
    expect(String(lost.reason)).not.toBe("");

    // A new gateway on the same ports: the agent finds it by itself.
    gateway.current = await startGateway(http, grpc);
    const again = await waitForLiveness(
      fleetClient(http),
      "agent-fake-1",
      Liveness.HEALTHY,
      30_000,
    );
    expect(again.kind).toBe(WorkerKind.AGENT);
    expect(again.agent?.connected).toBe(true);
    await waitConnected(a, true);
    expect(lines.filter((l) => l.msg === "connected to the gateway agent endpoint")).toHaveLength(
      2,
    );
  });
});

describe("an agent that announces a Manage address the gateway already probes", () => {
  let worker: StallwatchProcess;
  let gateway: StallwatchProcess;
  beforeAll(async () => {
    worker = await startStallwatch(["worker", "--listen", "127.0.0.1:0", "--id", "merge-w1"]);
    gateway = await startGateway("127.0.0.1:0", "127.0.0.1:0", [
      "--worker",
      String(worker.listening.address),
    ]);
  });
  afterAll(async () => {
    await Promise.all([gateway.stop(), worker.stop()]);
  });

  it("merges the static target and the agent into one row with the agent's id", async () => {
    const fleet = fleetClient(String(gateway.listening.http));
    const manage = String(worker.listening.address);
    // First the static target alone, keyed by its address.
    await waitForLiveness(fleet, manage, Liveness.HEALTHY, 20_000);

    const { log } = memoryLog();
    agent({
      clock: systemClock,
      gatewayAddress: parseHostPort(String(gateway.listening.grpc)),
      announce: announceFor("merge-w1", manage),
      source: new FakeStatusSource(Date.now()),
      log,
      backoff: FAST_RECONNECT,
    });
    const merged = await pollUntil(
      async () => {
        const { workers } = await fleet.listWorkers({}, { timeoutMs: 2000 });
        const rows = workers.filter((w) => w.address === manage || w.id === "merge-w1");
        const [row] = rows;
        return rows.length === 1 && row?.id === "merge-w1" && row.liveness === Liveness.HEALTHY
          ? row
          : undefined;
      },
      { timeoutMs: 20_000, what: "one healthy row for the worker" },
    );
    expect(merged).toMatchObject({
      id: "merge-w1",
      kind: WorkerKind.AGENT,
      address: manage,
      agent: { connected: true, manageAddress: manage },
    });
    const { workers } = await fleet.listWorkers({});
    expect(workers.some((w) => w.id === manage)).toBe(false);
  });
});

describe("status reports and cancel commands, end to end through an in-process gateway", () => {
  let gw: InProcessGateway;
  const gatewayLog = memoryLog();
  beforeAll(async () => {
    gw = await startInProcessGateway(gatewayLog.log);
  });
  afterAll(async () => {
    await gw.close();
  });

  const channelOf = (id: string) =>
    pollUntil(() => gw.gateway.agents.get(id), { what: `the agent channel of ${id}` });

  it("answers a status request with the source's sessions, finished sessions and threads", async () => {
    const { log } = memoryLog();
    const now = Date.now();
    const source = new FakeStatusSource(now);
    agent({
      clock: systemClock,
      gatewayAddress: gw.address,
      announce: announceFor("ip-status"),
      source,
      log,
    });
    const channel = await channelOf("ip-status");

    const report = await channel.requestStatus({ includeThreads: true, maxFinished: 5 }, 5000);
    expect(report.error).toBe("");
    expect(report.sessions.map((s) => [s.sessionId, s.state, s.udfName, s.threadId])).toEqual([
      ["s-hung", SessionState.PROCESSING, "hang", "udf-7"],
      ["s-busy", SessionState.WAITING_FOR_INPUT, "double", "udf-8"],
    ]);
    expect(report.sessions[0]?.stateEnteredAtMs).toBe(BigInt(now - 42_000));
    expect(report.sessions[0]?.taskContext).toEqual({ stage: "3", partition: "17" });
    expect(report.finished.map((f) => f.sessionId)).toEqual([
      "s-done-1",
      "s-done-2",
      "s-done-3",
      "s-done-4",
      "s-done-5",
    ]);
    expect(report.dump?.costMicros).toBe(1234n);
    expect(report.dump?.threads.map((t) => [t.threadId, t.sessionId, t.frames[0]])).toEqual([
      ["main-0", "", "<event loop>"],
      ["udf-7", "s-hung", "blockForever (/app/dist/server/worker/udf/demo-udfs.js:41:13)"],
      ["udf-8", "s-busy", "waitForBatch (/app/dist/server/worker/udf/udf-thread.js:30:9)"],
    ]);

    // The gateway's own polls went through the same path into its fleet view.
    await pollUntil(() => gw.gateway.fleet.get("ip-status")?.agent?.lastReport, {
      what: "a periodic status report in the fleet",
    });
  });

  it("carries out cancel_session through the source and reports the outcome", async () => {
    const { log, waitFor } = memoryLog();
    const source = new FakeStatusSource(Date.now());
    agent({
      clock: systemClock,
      gatewayAddress: gw.address,
      announce: announceFor("ip-cancel"),
      source,
      log,
    });
    const channel = await channelOf("ip-cancel");

    const result = await channel.cancelSession(
      create(CancelSessionSchema, { sessionId: "s-hung", reason: "hung in recv", graceMs: 300 }),
      10_000,
    );
    expect(source.cancels).toEqual([{ sessionId: "s-hung", reason: "hung in recv", graceMs: 300 }]);
    expect(result.outcome).toBe(CommandOutcome.THREAD_TERMINATED);
    expect(result.message).toMatch(/did not yield within 300 ms/);
    expect(result.tookMs).toBeGreaterThanOrEqual(0n);
    await waitFor((l) => l.msg === "agent command done", "the command's log line");

    // The cancelled session is gone from the next report and listed as finished.
    const report = await channel.requestStatus({ includeThreads: false, maxFinished: 1 }, 5000);
    expect(report.sessions.map((s) => s.sessionId)).toEqual(["s-busy"]);
    expect(report.finished[0]?.sessionId).toBe("s-hung");

    const again = await channel.cancelSession(
      create(CancelSessionSchema, { sessionId: "s-hung", reason: "again", graceMs: 300 }),
      10_000,
    );
    expect(again.outcome).toBe(CommandOutcome.ALREADY_ENDED);
    const unknown = await channel.cancelSession(
      create(CancelSessionSchema, { sessionId: "nope", reason: "x", graceMs: 300 }),
      10_000,
    );
    expect(unknown.outcome).toBe(CommandOutcome.NOT_FOUND);
  });

  it("does not let a dump in progress delay a cancel", async () => {
    const { log } = memoryLog();
    const source = new FakeStatusSource(Date.now());
    let releaseDump: () => void = () => undefined;
    source.dumpGate = new Promise<void>((resolve) => (releaseDump = resolve));
    agent({
      clock: systemClock,
      gatewayAddress: gw.address,
      announce: announceFor("ip-concurrent"),
      source,
      log,
      // Long enough that only the release below ends the dump.
      dumpDeadlineMs: 30_000,
    });
    const channel = await channelOf("ip-concurrent");

    let statusDone = false;
    const status = channel
      .requestStatus({ includeThreads: true, maxFinished: 0 }, 40_000)
      .finally(() => (statusDone = true));
    await pollUntil(() => (source.dumpCalls > 0 ? true : undefined), { what: "the dump to start" });
    const result = await channel.cancelSession(
      create(CancelSessionSchema, { sessionId: "s-busy", reason: "r", graceMs: 100 }),
      10_000,
    );
    expect(result.outcome).toBe(CommandOutcome.THREAD_TERMINATED);
    expect(statusDone).toBe(false);

    releaseDump();
    const report = await status;
    expect(report.dump?.threads).toHaveLength(3);
  });

  it("answers without the dump, saying why, when the dump misses its deadline; names a broken source", async () => {
    const source = Object.assign(new FakeStatusSource(Date.now()), { dumpMode: "hang" as const });
    agent({
      clock: systemClock,
      gatewayAddress: gw.address,
      announce: announceFor("ip-slow-dump"),
      source,
      log: memoryLog().log,
      dumpDeadlineMs: 300,
    });
    const channel = await channelOf("ip-slow-dump");
    const late = await channel.requestStatus({ includeThreads: true, maxFinished: 2 }, 10_000);
    expect(late.dump).toBeUndefined();
    expect(late.sessions).toHaveLength(2);
    // Exactly what was asked: the gateway joins only an identical request in
    // flight (its own collector asks for 20 finished sessions, not 2).
    expect(late.finished).toHaveLength(2);
    expect(late.error).toMatch(/thread dump not ready within 300 ms/);

    // A broken source still gets an answer that names the failure.
    source.sessionsFail = true;
    const broken = await channel.requestStatus({ includeThreads: false, maxFinished: 0 }, 10_000);
    expect(broken.error).toMatch(/sessions unavailable: session table unavailable/);
  });
});

describe("when the gateway cannot be reached", () => {
  it("keeps retrying, says why, never reports connected, and stops promptly", async () => {
    await expectRefusedPeerHandled("gateway agent endpoint", (gatewayAddress, log) =>
      agent({
        clock: systemClock,
        gatewayAddress,
        announce: announceFor("nobody-home"),
        source: new FakeStatusSource(Date.now()),
        log,
        backoff: QUICK_RETRY,
      }),
    );

    const { log } = memoryLog();
    const hole = await startBlackhole();
    try {
      const silent = agent({
        clock: systemClock,
        gatewayAddress: parseHostPort(hole.address),
        announce: announceFor("into-the-void"),
        source: new FakeStatusSource(Date.now()),
        log,
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(silent.connected).toBe(false);
      expect(await stopsPromptly(silent)).toBe(true);
    } finally {
      await hole.close();
    }
  });
});
