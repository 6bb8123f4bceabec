import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import * as grpcJs from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ShutdownRequestSchema,
  UdfRequestSchema,
  UdfResponseSchema,
  WorkerRequestSchema,
  WorkerResponseSchema,
  type UdfRequest,
  type UdfResponse,
  type WorkerRequest,
  type WorkerResponse,
} from "../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { SessionState } from "../../gen/stallwatch/v1/agent_pb.js";
import { ActionStatus } from "../../gen/stallwatch/v1/control_pb.js";
import { Liveness } from "../../gen/stallwatch/v1/fleet_pb.js";
import { apiClients } from "../testing/api-clients.js";
import { waitForLiveness } from "../testing/fleet-client.js";
import { pollUntil } from "../testing/poll.js";
import { ARROW, DEMO, arrowBatch, clientsFor, demoPayload } from "../testing/protocol-fixtures.js";
import { engineSays, describeResponse } from "../testing/peer-programs.js";
import {
  killPythonWorkers,
  startPythonWorker,
  type PythonWorkerProcess,
} from "../testing/python-worker.js";
import { killAllStarted, startStallwatch } from "../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../testing/test-gateway.js";

const TOKEN = "python-worker-test-token";

/**
 * Issue 21: real Python worker processes (grpcio, with the agent) against the
 * real TypeScript engine and gateway, and a grpc-js client we did not write.
 */
describe("the Python reference worker among real peers", () => {
  let gateway: TestGateway;
  let worker: PythonWorkerProcess;

  beforeAll(async () => {
    gateway = await startTestGateway({
      operatorToken: TOKEN,
      flags: { "stall-processing-ms": 1000, "not-moving-ms": 1000 },
    });
    worker = await startPythonWorker(["--id", "py-it-1", "--gateway", gateway.grpc]);
  });
  afterAll(async () => {
    await Promise.all([worker.stop(), gateway.stop()]);
    killPythonWorkers();
    killAllStarted();
  });

  it("joins through its agent: one healthy row, probed over Manage at the address it announced", async () => {
    const { fleet } = apiClients(gateway.http, TOKEN);
    const row = await waitForLiveness(fleet, "py-it-1", Liveness.HEALTHY, 30_000);
    expect(row.address).toBe(worker.address);
    expect(row.agent?.runtime).toMatch(/python/i);
  });

  it("runs the TypeScript engine's sessions to the end (Arrow batches as opaque bytes)", async () => {
    const engine = await startStallwatch(
      [
        ...["engine", "--worker", worker.address, "--sessions", "4", "--batches", "3"],
        ...["--udf", '{"fn":"echo","weight":2}', "--udf", '{"fn":"count"}', "--rate", "10"],
      ],
      { startTimeoutMs: 30_000 },
    );
    const done = await engine.waitForLog((l) => l.msg === "all sessions done", 30_000);
    expect(done).toMatchObject({ started: 4, finished: 4, failed: 0, broken: 0 });
    await engine.stop();
  });

  it("answers a grpc-js client (a peer we did not write): Manage, and an Execute echo", async () => {
    const client = new grpcJs.Client(worker.address, grpcJs.credentials.createInsecure());
    try {
      const beat = await new Promise<WorkerResponse>((resolve, reject) =>
        client.makeUnaryRequest<WorkerRequest, WorkerResponse>(
          "/org.apache.spark.udf.worker.UdfWorker/Manage",
          (r) => Buffer.from(toBinary(WorkerRequestSchema, r)),
          (b) => fromBinary(WorkerResponseSchema, b),
          create(WorkerRequestSchema, { manage: { case: "heartbeat", value: {} } }),
          { deadline: Date.now() + 15_000 },
          (err, res) => (err || !res ? reject(err ?? new Error("no answer")) : resolve(res)),
        ),
      );
      expect(beat.manage.case).toBe("heartbeat");

      const call = client.makeBidiStreamRequest<UdfRequest, UdfResponse>(
        "/org.apache.spark.udf.worker.UdfWorker/Execute",
        (r) => Buffer.from(toBinary(UdfRequestSchema, r)),
        (b) => fromBinary(UdfResponseSchema, b),
        { deadline: Date.now() + 15_000 },
      );
      const names: string[] = [];
      const ended = new Promise<void>((resolve, reject) => {
        call.on("data", (r: UdfResponse) => {
          names.push(describeResponse(r));
          if (names.length === 1) {
            call.write(create(UdfRequestSchema, engineSays.data(arrowBatch([1n, 2n]))));
            call.write(create(UdfRequestSchema, engineSays.finish()));
          }
          if (r.response.case === "control" && r.response.value.control.case === "finish")
            call.end();
        });
        call.on("end", resolve);
        call.on("error", reject);
      });
      call.write(
        create(
          UdfRequestSchema,
          engineSays.init({
            protocolVersion: 1,
            dataFormat: ARROW,
            udf: { format: DEMO, payload: demoPayload({ fn: "echo" }), name: "echo" },
          }),
        ),
      );
      await ended;
      expect(names).toEqual(["init", "data", "finish"]);
    } finally {
      client.close();
    }
  });

  it("shows a session hung in a socket read as stalled, its thread's innermost frame at file:line in recv_into", async () => {
    const { fleet } = apiClients(gateway.http, TOKEN);
    const engine = await startStallwatch(
      ["engine", "--worker", worker.address, "--udf", '{"fn":"hang"}', "--sessions", "1"],
      { startTimeoutMs: 30_000 },
    );
    try {
      const stalled = await pollUntil(
        async () => {
          const { sessions } = await fleet.listStalledSessions({});
          return sessions.find((s) => s.workerId === "py-it-1" && s.session?.udfName === "hang");
        },
        { timeoutMs: 30_000, what: "the hung Python session in the stalled list" },
      );
      expect(stalled.session?.state).toBe(SessionState.PROCESSING);
      expect(stalled.session?.taskContext).toMatchObject({ attempt: "0" });

      const ac = new AbortController();
      let innermost = "";
      for await (const msg of fleet.watchThreadDumps(
        { workerId: "py-it-1", intervalMs: 1000 },
        { signal: ac.signal, timeoutMs: 20_000 },
      )) {
        const thread = msg.dump?.threads.find(
          (t) => t.thread?.sessionId === stalled.session?.sessionId,
        );
        if (thread?.thread?.frames.length) {
          innermost = thread.thread.frames[0] ?? "";
          ac.abort();
          break;
        }
      }
      expect(innermost).toMatch(/recv_into/);
      expect(innermost).toMatch(/stallwatch_worker\/udfs\.py:\d+/);
      // The stalled list names the thread as Python does, not by its numeric ident.
      const named = await pollUntil(
        async () => {
          const { sessions } = await fleet.listStalledSessions({});
          const s = sessions.find((v) => v.session?.sessionId === stalled.session?.sessionId);
          return s?.threadName ? s : undefined;
        },
        { timeoutMs: 15_000, what: "the stalled session's thread name" },
      );
      expect(named.session?.threadId).toMatch(/^\d+$/);
      expect(named.threadName).toMatch(/^grpc-udf_\d+$/);
    } finally {
      await engine.stop();
    }
  });
});

describe("cancel worker of a Python worker whose session never yields", () => {
  it("is acknowledged, outlives the cancel, and its agent's helper ends it 30 s later, saying so", async () => {
    const gateway = await startTestGateway({
      operatorToken: TOKEN,
      flags: { "stall-processing-ms": 1000, "not-moving-ms": 1000 },
    });
    const stuck = await startPythonWorker(["--id", "py-it-4", "--gateway", gateway.grpc]);
    const engine = await startStallwatch(
      ["engine", "--worker", stuck.address, "--udf", '{"fn":"hang"}', "--sessions", "1"],
      { startTimeoutMs: 30_000 },
    );
    try {
      const { fleet, control } = apiClients(gateway.http, TOKEN);
      await pollUntil(
        async () => {
          const { sessions } = await fleet.listStalledSessions({});
          return sessions.find((s) => s.workerId === "py-it-4");
        },
        { timeoutMs: 30_000, what: "the hung session (recv_into) in the stalled list" },
      );
      const actionId = "py-it-4-cancel";
      const request = { workerId: "py-it-4", reason: "read never returns", actionId };
      // The worker answers the Manage shutdown and cancels its session, but the
      // session's thread sits in recv_into, so the worker never exits by itself.
      const started = await control.cancelWorker(request, { timeoutMs: 10_000 });
      expect(started.action?.outcome).not.toMatch(/unanswered/);
      const ended = await pollUntil(
        async () => {
          const { action } = await control.cancelWorker(request, { timeoutMs: 10_000 });
          return action && action.status !== ActionStatus.RUNNING ? action : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500, what: "the cancel-worker to end" },
      );
      expect(ended.status, ended.outcome).toBe(ActionStatus.SUCCEEDED);
      expect(ended.outcome).toMatch(/^cancelled: 1 session aborted; worker process \d+ /);
      expect(ended.outcome).toMatch(/by the agent helper/);
      expect(ended.outcome).toMatch(
        /\(the worker acknowledged the shutdown but was still running 3\d s later\)$/,
      );
      expect(await stuck.exited).not.toBe(0);
    } finally {
      await engine.stop();
      await Promise.all([stuck.stop(), gateway.stop()]);
    }
  }, 120_000);
});

describe("a Python worker alone", () => {
  it("drains on Manage shutdown from the TypeScript Manage client and exits 0", async () => {
    const alone = await startPythonWorker(["--id", "py-it-2"]);
    const { manage } = clientsFor(alone.address);
    const answer = await manage.shutdown(
      create(ShutdownRequestSchema, { cancelSessions: false, reason: "test" }),
      15_000,
    );
    expect(answer).toMatchObject({ ok: true, value: true });
    expect(await alone.exited).toBe(0);
  });
});
