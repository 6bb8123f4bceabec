import { spawnSync } from "node:child_process";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionStatus, type Action } from "../../gen/stallwatch/v1/control_pb.js";
import { Liveness } from "../../gen/stallwatch/v1/fleet_pb.js";
import { engineSays } from "../engine/execute-driver.js";
import { waitForLiveness } from "../testing/fleet-client.js";
import { apiClients } from "../testing/api-clients.js";
import { pollUntil } from "../testing/poll.js";
import { PROMTOOL, requireBinary } from "../testing/prometheus-binaries.js";
import { freshDbPath, killAllStarted } from "../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../testing/test-gateway.js";
import { startHealthyAgent } from "../testing/test-worker.js";
import { makeUnwritable } from "../testing/unwritable.js";
import { arrowBatch, clientsFor, openSession, readToEnd } from "../testing/protocol-fixtures.js";

const TOKEN = "operations-token";

const codeOf = (err: unknown) => ConnectError.from(err).code;

describe("gateway operations with real workers", () => {
  let gateway: TestGateway;
  let http: string;
  let db: string;
  // A restart binds the addresses the first start got.
  const startGateway = (at: { http?: string; grpc?: string } = {}) =>
    startTestGateway({ http: at.http, grpc: at.grpc, db, operatorToken: TOKEN });

  beforeAll(async () => {
    db = freshDbPath();
    gateway = await startGateway();
    http = gateway.http;
  });
  afterAll(async () => {
    await gateway.stop();
    killAllStarted();
  });

  it("drains a worker with progress: its session finishes, the worker exits, the action says so", async () => {
    const worker = await startHealthyAgent(gateway, "drain-me");
    const { fleet, control } = apiClients(http, TOKEN);
    const { udf } = clientsFor(worker.address);
    const { driver } = await openSession(udf, { fn: "slow", msPerBatch: 1500 });
    driver.send(engineSays.data(arrowBatch([1n])));
    await pollUntil(
      async () =>
        (await fleet.getWorker({ workerId: "drain-me" })).detail?.worker?.metrics
          .active_sessions === "1"
          ? true
          : undefined,
      {
        what: "the session to be seen",
      },
    );

    const { action } = await control.drainWorker({
      actionId: "drain-1",
      workerId: "drain-me",
      reason: "rolling restart",
    });
    expect(action?.status).toBe(ActionStatus.RUNNING);
    const seen: Action[] = [];
    const watching = (async () => {
      for await (const update of control.watchAction(
        { actionId: "drain-1" },
        { timeoutMs: 30_000 },
      )) {
        if (update.action) seen.push(update.action);
      }
    })();
    await pollUntil(() => (seen.some((a) => a.outcome.startsWith("draining")) ? true : undefined), {
      what: "drain progress",
    });
    await waitForLiveness(fleet, "drain-me", Liveness.DRAINING);
    driver.send(engineSays.finish());
    expect((await readToEnd(driver)).names).toEqual(["data", "finish", "end"]);
    await watching;
    const last = seen.at(-1);
    expect(last?.status).toBe(ActionStatus.SUCCEEDED);
    expect(last?.sessionsAtStart).toBe(1);
    expect(last?.outcome).toMatch(/^drained: 1 session finished in \d+ s, worker exited$/);
    expect(await worker.exited).toBe(0);
    await waitForLiveness(fleet, "drain-me", Liveness.EXITED);
  });

  it("fails an action on an unreachable worker clearly instead of hanging", async () => {
    const { control } = apiClients(http, TOKEN);
    await expect(
      control.drainWorker({ actionId: "drain-2", workerId: "no-such-worker", reason: "x" }),
    ).rejects.toSatisfy((e: unknown) => codeOf(e) === Code.NotFound);
    await expect(
      control.drainWorker({ actionId: "", workerId: "drain-me", reason: "x" }),
    ).rejects.toSatisfy((e: unknown) => codeOf(e) === Code.InvalidArgument);
    await expect(
      control.drainWorker({ actionId: "drain-3", workerId: "drain-me", reason: "  " }),
    ).rejects.toThrow(/a reason is required/);
  });

  it("shows a worker killed mid-session as gone with the reason, and stops reporting its sessions", async () => {
    const worker = await startHealthyAgent(gateway, "killed");
    const { fleet } = apiClients(http);
    const { udf } = clientsFor(worker.address);
    const { driver } = await openSession(udf, { fn: "hang" });
    driver.send(engineSays.data(arrowBatch([1n])));
    await pollUntil(
      async () =>
        (await fleet.getWorker({ workerId: "killed" })).detail?.sessions.length ? true : undefined,
      {
        timeoutMs: 15_000,
        what: "the session to be reported",
      },
    );
    worker.child.kill("SIGKILL");
    const gone = await waitForLiveness(fleet, "killed", Liveness.GONE);
    expect(gone.livenessReason).toMatch(/connection (refused|reset|closed)/);
    expect((await fleet.getWorker({ workerId: "killed" })).detail?.sessions).toEqual([]);
    const { events } = await fleet.listEvents({ workerId: "killed", kind: "liveness" });
    expect(events.some((e) => e.toState === "gone")).toBe(true);
    driver.abort();
  });

  it("a frozen worker turns late with a pinned dump attempt, then unresponsive", async () => {
    const worker = await startHealthyAgent(gateway, "frozen");
    const { fleet } = apiClients(http);
    process.kill(worker.pid, "SIGSTOP");
    try {
      await waitForLiveness(fleet, "frozen", Liveness.UNRESPONSIVE, 10_000);
      // The "late" event is recorded once its evidence dump answered or timed out.
      const states = await pollUntil(
        async () => {
          const { events } = await fleet.listEvents({ workerId: "frozen", kind: "liveness" });
          const s = events.map((e) => e.toState);
          return s.includes("late") && s.includes("unresponsive") ? s : undefined;
        },
        { what: "late and unresponsive events" },
      );
      // Newest first, by when the change happened.
      expect(states.indexOf("unresponsive")).toBeLessThan(states.indexOf("late"));
      // The dump was asked for the moment it turned late (a frozen process cannot answer it).
      await gateway.waitForLog(
        (l) => l.worker === "frozen" && l.msg === "status request failed",
        10_000,
      );
    } finally {
      process.kill(worker.pid, "SIGCONT");
    }
    await waitForLiveness(fleet, "frozen", Liveness.HEALTHY, 15_000);
    await worker.stop();
  });

  it("creates, lists, serves and deletes snapshots; they survive a gateway restart", async () => {
    const viewer = apiClients(http);
    const operator = apiClients(http, TOKEN);
    const { info } = await viewer.snapshots.createSnapshot({ note: "incident 42" });
    expect(info?.id.length).toBeGreaterThanOrEqual(22); // 16 random bytes, base64url
    expect(info?.sizeBytes).toBeGreaterThan(0n);
    expect(info?.createdBy).toBe("anonymous");
    const one = await operator.snapshots.createSnapshot({ workerId: "frozen" });
    expect(one.info?.workerCount).toBe(1);

    const { snapshot } = await viewer.snapshots.getSnapshot({ id: info?.id ?? "" });
    expect(snapshot?.workers.map((w) => w.id)).toEqual(
      expect.arrayContaining(["drain-me", "killed", "frozen"]),
    );
    expect(snapshot?.details.length).toBe(snapshot?.workers.length);
    expect(snapshot?.audit.some((a) => a.actionId === "drain-1")).toBe(true);
    expect(snapshot?.events.length).toBeGreaterThan(0);
    // The permalink's fleet view asks without details, its worker view for one worker's.
    const summary = await viewer.snapshots.getSnapshot({ id: info?.id ?? "", summary: true });
    expect(summary.snapshot?.details).toEqual([]);
    expect(summary.snapshot?.workers.length).toBe(snapshot?.workers.length);
    const frozenOnly = await viewer.snapshots.getSnapshot({
      id: info?.id ?? "",
      workerId: "frozen",
    });
    expect(frozenOnly.snapshot?.details.map((d) => d.worker?.id)).toEqual(["frozen"]);
    await expect(
      viewer.snapshots.getSnapshot({ id: info?.id ?? "", workerId: "nobody" }),
    ).rejects.toSatisfy((e: unknown) => codeOf(e) === Code.NotFound);

    await expect(viewer.snapshots.getSnapshot({ id: "AAAAAAAAAAAAAAAAAAAAAA" })).rejects.toSatisfy(
      (e: unknown) => codeOf(e) === Code.NotFound,
    );
    await expect(viewer.snapshots.deleteSnapshot({ id: one.info?.id ?? "" })).rejects.toSatisfy(
      (e: unknown) => codeOf(e) === Code.Unauthenticated,
    );
    await operator.snapshots.deleteSnapshot({ id: one.info?.id ?? "" });
    await expect(viewer.snapshots.getSnapshot({ id: one.info?.id ?? "" })).rejects.toSatisfy(
      (e: unknown) => codeOf(e) === Code.NotFound,
    );

    await gateway.stop();
    gateway = await startGateway(gateway);
    // Listing reveals every permalink id: it needs the operator role.
    await expect(apiClients(http).snapshots.listSnapshots({})).rejects.toSatisfy(
      (e: unknown) => codeOf(e) === Code.Unauthenticated,
    );
    const after = apiClients(http, TOKEN);
    const { snapshots } = await after.snapshots.listSnapshots({});
    expect(snapshots.map((s) => s.id)).toEqual([info?.id]);
    const again = await after.snapshots.getSnapshot({ id: info?.id ?? "" });
    expect(again.snapshot?.info?.note).toBe("incident 42");
    const { records } = await after.control.listAudit({});
    expect(
      records.some((r) => r.actionId === "drain-1" && r.result === ActionStatus.SUCCEEDED),
    ).toBe(true);
  });

  it("serves /metrics that promtool accepts, /healthz and /readyz, and refuses foreign origins", async () => {
    const metrics = await fetch(`http://${http}/metrics`);
    const text = await metrics.text();
    expect(text).toContain("stallwatch_heartbeat_round_trip_seconds_bucket");
    expect(text).toMatch(/stallwatch_workers\{liveness="healthy"\} \d+/);
    // Fails, never skips, without promtool (npm test installs it).
    const check = spawnSync(requireBinary(PROMTOOL), ["check", "metrics"], {
      input: text,
      encoding: "utf8",
    });
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
    expect((await fetch(`http://${http}/healthz`)).status).toBe(200);
    expect((await fetch(`http://${http}/readyz`)).status).toBe(200);
    const foreign = await fetch(`http://${http}/stallwatch.v1.FleetService/ListWorkers`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "http://evil.example" },
      body: "{}",
    });
    expect(foreign.status).toBe(403);
  });
});

describe("a gateway whose database becomes unwritable", () => {
  afterAll(() => killAllStarted());

  it("logs the fault and exits non-zero quickly", async () => {
    const db = freshDbPath();
    const gateway = await startTestGateway({ db });
    const { snapshots } = apiClients(gateway.http);
    await snapshots.createSnapshot({});
    const undo = makeUnwritable([db, `${db}-wal`]);
    try {
      await snapshots.createSnapshot({}).catch(() => undefined);
      const code = await Promise.race([
        gateway.exited,
        new Promise((r) => setTimeout(() => r("still running"), 5000)),
      ]);
      expect(code).toBe(3);
      expect(gateway.logs.some((l) => l.msg === "database failure")).toBe(true);
    } finally {
      undo();
    }
  });
});
