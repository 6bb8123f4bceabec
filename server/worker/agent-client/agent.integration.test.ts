import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionState } from "../../../gen/stallwatch/v1/agent_pb.js";
import { ActionStatus } from "../../../gen/stallwatch/v1/control_pb.js";
import { Liveness, WorkerKind } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { describeResponse, engineSays } from "../../testing/peer-programs.js";
import { waitForLiveness } from "../../testing/fleet-client.js";
import { apiClients } from "../../testing/api-clients.js";
import { pollUntil } from "../../testing/poll.js";
import {
  freshDbPath,
  killAllStarted,
  startStallwatch,
  type StallwatchProcess,
} from "../../testing/spawn-stallwatch.js";
import {
  arrowBatch,
  clientsFor,
  errorOf,
  openSession,
  readToEnd,
} from "../../testing/protocol-fixtures.js";

const TOKEN = "agent-test-token";

describe("a worker with an agent, watched by a real gateway", () => {
  let gateway: StallwatchProcess;
  let worker: StallwatchProcess;
  let http: string;
  let grpc: string;
  let db: string;

  const startGateway = (httpAt = "127.0.0.1:0", grpcAt = "127.0.0.1:0") =>
    startStallwatch(
      [
        "gateway",
        "--http",
        httpAt,
        "--grpc",
        grpcAt,
        "--operator-token",
        TOKEN,
        "--stall-processing-ms",
        "1000",
        "--not-moving-ms",
        "1000",
      ],
      { env: { STALLWATCH_DB: db } },
    );

  beforeAll(async () => {
    db = freshDbPath();
    gateway = await startGateway();
    http = String(gateway.listening.http);
    grpc = String(gateway.listening.grpc);
    worker = await startStallwatch([
      "worker",
      "--listen",
      "127.0.0.1:0",
      "--id",
      "agent-w1",
      "--gateway",
      grpc,
      "--cancel-grace-ms",
      "800",
    ]);
  });
  afterAll(async () => {
    await Promise.all([worker.stop(), gateway.stop()]);
    killAllStarted();
  });

  it("announces itself: one row with the agent's id, probed on its Manage address, healthy", async () => {
    const { fleet } = apiClients(http);
    const w = await waitForLiveness(fleet, "agent-w1", Liveness.HEALTHY);
    expect(w.kind).toBe(WorkerKind.AGENT);
    expect(w.address).toBe(worker.listening.address);
    expect(w.agent).toMatchObject({
      connected: true,
      manageAddress: worker.listening.address,
      capabilities: ["sessions", "thread-dump", "cancel-session", "profile", "profile-cpu"],
    });
    expect(w.agent?.runtime).toMatch(/^node v20/);
  });

  it("reports a session hung in user code, its thread not moving in live dumps, and an operator's cancel terminates it", async () => {
    const { fleet, control } = apiClients(http, TOKEN);
    const { udf } = clientsFor(String(worker.listening.address));
    const { driver } = await openSession(
      udf,
      { fn: "hang" },
      { taskContext: { stage: "3", partition: "17" } },
    );
    driver.send(engineSays.data(arrowBatch([1n, 2n])));

    // Sessions with state and task context, judged stalled after 1 s in PROCESSING.
    const stalled = await pollUntil(
      async () => {
        const { sessions } = await fleet.listStalledSessions({});
        return sessions.find((s) => s.workerId === "agent-w1");
      },
      { timeoutMs: 20_000, what: "the hung session in the stalled list" },
    );
    const session = stalled.session;
    expect(session?.state).toBe(SessionState.PROCESSING);
    expect(session?.taskContext).toEqual({ stage: "3", partition: "17" });
    expect(stalled.stallReason).toMatch(/processing for \d+ s/);

    // Live thread dumps: the UDF thread's real stack, not moving.
    const ac = new AbortController();
    let notMoving: string[] = [];
    try {
      for await (const msg of fleet.watchThreadDumps(
        { workerId: "agent-w1", intervalMs: 1000 },
        { signal: ac.signal, timeoutMs: 20_000 },
      )) {
        const udfThread = msg.dump?.threads.find((t) => t.thread?.sessionId === session?.sessionId);
        if (udfThread?.notMoving) {
          // One name for the thread: the session's link and the dump agree (issue 11, bug 7).
          expect(udfThread.thread?.threadId).toBe(session?.threadId);
          expect(udfThread.thread?.name).toBe(session?.threadId);
          notMoving = udfThread.thread?.frames ?? [];
          break;
        }
      }
    } finally {
      ac.abort();
    }
    expect(notMoving.join("\n")).toMatch(/blockForever/);

    // The operator cancels it through the agent; user code never yields, so its thread is terminated.
    const { action } = await control.cancelSession({
      actionId: "cancel-hung-1",
      workerId: "agent-w1",
      sessionId: session?.sessionId ?? "",
      reason: "hung in recv",
    });
    expect(action?.status).toBe(ActionStatus.RUNNING);
    const ended = await pollUntil(
      async () => {
        const { records } = await control.listAudit({ workerId: "agent-w1" });
        const r = records.find((a) => a.actionId === "cancel-hung-1");
        return r && r.result !== ActionStatus.RUNNING ? r : undefined;
      },
      { timeoutMs: 20_000, what: "the cancel to end" },
    );
    expect(ended).toMatchObject({
      result: ActionStatus.SUCCEEDED,
      actor: "operator (token)",
      reason: "hung in recv",
    });
    expect(ended.outcome).toMatch(/cancel escalated: thread terminated after/);

    // The engine sees the protocol's way: ErrorResponse{WorkerError}, then CancelResponse.
    const { names, responses } = await readToEnd(driver);
    expect(names).toEqual(["error:worker", "cancel", "end"]);
    expect(errorOf(responses[0])?.kind.value?.message).toMatch(
      /cancelled by an operator: hung in recv/,
    );
    expect(describeResponse(responses[1])).toBe("cancel");

    // Repeating the action id returns the same action instead of acting twice.
    const again = await control.cancelSession({
      actionId: "cancel-hung-1",
      workerId: "agent-w1",
      sessionId: session?.sessionId ?? "",
      reason: "hung in recv",
    });
    expect(again.action?.status).toBe(ActionStatus.SUCCEEDED);
  });

  it("refuses actions without the operator token", async () => {
    const { control } = apiClients(http);
    await expect(
      control.drainWorker({ actionId: "nope", workerId: "agent-w1", reason: "x" }),
    ).rejects.toThrow(/operator role required: no operator token sent/);
    const wrong = apiClients(http, "not-the-token");
    await expect(
      wrong.control.drainWorker({ actionId: "nope", workerId: "agent-w1", reason: "x" }),
    ).rejects.toThrow(/the operator token is wrong/);
  });

  it("reconnects by itself after the gateway restarts, with audit intact", async () => {
    await gateway.stop();
    gateway = await startGateway(http, grpc);
    const { fleet, control } = apiClients(http, TOKEN);
    const w = await waitForLiveness(fleet, "agent-w1", Liveness.HEALTHY, 20_000);
    await pollUntil(
      async () =>
        (await fleet.getWorker({ workerId: "agent-w1" })).detail?.worker?.agent?.connected
          ? true
          : undefined,
      {
        timeoutMs: 20_000,
        what: "the agent to reconnect",
      },
    );
    expect(w.kind).toBe(WorkerKind.AGENT);
    const { records } = await control.listAudit({});
    expect(records.some((r) => r.actionId === "cancel-hung-1")).toBe(true);
  });
});

describe("a worker in Beam mode", () => {
  let gateway: StallwatchProcess;
  let worker: StallwatchProcess;
  afterAll(async () => {
    await Promise.all([worker.stop(), gateway.stop()]);
    killAllStarted();
  });
  beforeAll(async () => {
    gateway = await startStallwatch(["gateway", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"]);
    worker = await startStallwatch([
      "worker",
      "--listen",
      "127.0.0.1:0",
      "--id",
      "beam-w1",
      "--beam-status",
      String(gateway.listening.grpc),
    ]);
  });

  it("shows up as a Beam harness keyed by worker_id, its sessions as bundles and its threads parsed", async () => {
    const { fleet } = apiClients(String(gateway.listening.http));
    const { udf } = clientsFor(String(worker.listening.address));
    const { driver } = await openSession(udf, { fn: "hang" });
    driver.send(engineSays.data(arrowBatch([1n])));
    const w = await waitForLiveness(fleet, "beam-w1", Liveness.HEALTHY);
    expect(w.kind).toBe(WorkerKind.BEAM);
    const detail = await pollUntil(
      async () => {
        const d = (await fleet.getWorker({ workerId: "beam-w1" })).detail;
        return d?.sessions.length &&
          d.latestDump?.threads.some((t) =>
            t.thread?.frames.some((f) => f.includes("blockForever")),
          )
          ? d
          : undefined;
      },
      { timeoutMs: 20_000, what: "a bundle and a parsed UDF thread" },
    );
    expect(detail.latestDump?.source).toBe("beam");
    expect(detail.latestDump?.rawText).toContain("ACTIVE PROCESSING BUNDLES");
    expect(detail.sessions[0]?.session?.udfName).toBe("hang");
    driver.abort();
  });
});
