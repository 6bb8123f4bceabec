import { create } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BeamFnWorkerStatus,
  WorkerStatusResponseSchema,
  type WorkerStatusResponse,
} from "../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import { Liveness, WorkerKind } from "../../gen/stallwatch/v1/fleet_pb.js";
import { fleetClient, waitForLiveness } from "../testing/fleet-client.js";
import { pollUntil } from "../testing/poll.js";
import {
  killAllStarted,
  startStallwatch,
  type StallwatchProcess,
} from "../testing/spawn-stallwatch.js";
import { formatBeamStatus } from "./status-text.js";

/**
 * A harness the way Beam SDKs behave: it dials the runner's status endpoint,
 * names itself in the `worker_id` header, and answers each request with the
 * same id. `answer` decides what (or whether) it answers.
 */
function startHarness(
  grpcAddress: string,
  workerId: string,
  answer: () => boolean,
): { stop: () => void; requests: string[] } {
  const client = createClient(
    BeamFnWorkerStatus,
    createGrpcTransport({ baseUrl: `http://${grpcAddress}` }),
  );
  const ac = new AbortController();
  const requests: string[] = [];
  const outbox: WorkerStatusResponse[] = [];
  let wake: (() => void) | undefined;
  async function* responses() {
    while (!ac.signal.aborted) {
      const next = outbox.shift();
      if (next) yield next;
      else await new Promise<void>((r) => (wake = r));
    }
  }
  void (async () => {
    try {
      for await (const req of client.workerStatus(responses(), {
        headers: { worker_id: workerId },
        signal: ac.signal,
      })) {
        requests.push(req.id);
        if (!answer()) continue;
        const statusInfo = formatBeamStatus({
          bundles: [
            {
              instructionId: "b-1",
              descriptorId: "d-1",
              trackedThread: "udf-1",
              timeSinceTransitionSec: 12,
            },
          ],
          threads: [
            {
              ident: "7",
              name: "udf-1",
              frames: [
                { fn: "recv_into", file: "ssl.py", line: 1821, source: "sock.recv_into(buf)" },
                { fn: "connect", file: "db.py", line: 3, source: "connect(password=hunter2)" },
              ],
            },
          ],
        });
        outbox.push(create(WorkerStatusResponseSchema, { id: req.id, statusInfo }));
        wake?.();
      }
    } catch {
      // aborted by stop()
    }
  })();
  return {
    requests,
    stop: () => {
      ac.abort();
      wake?.();
    },
  };
}

describe("Beam harnesses dialing BeamFnWorkerStatus", () => {
  let gateway: StallwatchProcess;
  let client: ReturnType<typeof fleetClient>;
  let grpc: string;

  beforeAll(async () => {
    gateway = await startStallwatch([
      "gateway",
      "--http",
      "127.0.0.1:0",
      "--grpc",
      "127.0.0.1:0",
      // The harness reports a bundle 12 s since its last transition.
      "--stall-no-progress-ms",
      "5000",
    ]);
    client = fleetClient(String(gateway.listening.http));
    grpc = String(gateway.listening.grpc);
  });

  afterAll(async () => {
    await gateway.stop();
    killAllStarted();
  });

  it("shows an answering harness as a healthy beam worker keyed by worker_id, gone once it leaves", async () => {
    const harness = startHarness(grpc, "beam-sdk-1", () => true);
    try {
      const w = await waitForLiveness(client, "beam-sdk-1", Liveness.HEALTHY);
      expect(w.kind).toBe(WorkerKind.BEAM);
      expect(w.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(w.latency?.samples).toBeGreaterThan(0);
      // Every request carries a fresh id.
      expect(new Set(harness.requests).size).toBe(harness.requests.length);
    } finally {
      harness.stop();
    }
    const gone = await waitForLiveness(client, "beam-sdk-1", Liveness.GONE);
    expect(gone.livenessReason).toMatch(/status stream/);
  });

  it("serves the parsed dump with the raw text kept (redacted), and flags the stuck bundle", async () => {
    const harness = startHarness(grpc, "beam-sdk-3", () => true);
    try {
      await waitForLiveness(client, "beam-sdk-3", Liveness.HEALTHY);
      const detail = await pollUntil(
        async () => {
          const res = await client.getWorker({ workerId: "beam-sdk-3" });
          return res.detail?.latestDump?.threads.length ? res.detail : undefined;
        },
        { what: "a parsed Beam dump" },
      );
      const dump = detail.latestDump;
      expect(dump?.source).toBe("beam");
      // Innermost frame first.
      expect(dump?.threads[0]?.thread?.frames).toEqual([
        "recv_into (ssl.py:1821)",
        "connect (db.py:3)",
      ]);
      expect(dump?.rawText).toContain("THREAD DUMP");
      expect(dump?.rawText).toContain("connect(password=[REDACTED])");
      expect(dump?.rawText).not.toContain("hunter2");
      expect(detail.beamStatus?.raw).not.toContain("hunter2");

      const stalled = await pollUntil(
        async () => {
          const res = await client.listStalledSessions({});
          return res.sessions.find((s) => s.workerId === "beam-sdk-3");
        },
        { what: "the stuck bundle in the stalled list" },
      );
      expect(stalled.session?.sessionId).toBe("b-1");
      expect(stalled.stallReason).toMatch(/no progress for 1\d s \(threshold 5 s\)/);
      const { events } = await client.listEvents({
        workerId: "beam-sdk-3",
        kind: "session_stalled",
      });
      expect(events[0]?.sessionId).toBe("b-1");
      expect(events[0]?.evidence?.threads.length).toBeGreaterThan(0);
    } finally {
      harness.stop();
    }
  });

  it("answers NotFound for an unknown worker", async () => {
    await expect(client.getWorker({ workerId: "nobody" })).rejects.toMatchObject({
      code: Code.NotFound,
    });
  });

  it("flags a harness that stops answering, like a missed heartbeat", async () => {
    let answering = true;
    const harness = startHarness(grpc, "beam-sdk-2", () => answering);
    try {
      await waitForLiveness(client, "beam-sdk-2", Liveness.HEALTHY);
      answering = false;
      const w = await waitForLiveness(client, "beam-sdk-2", Liveness.UNRESPONSIVE, 15_000);
      expect(w.livenessReason).toMatch(/no status answer within 1000 ms/);
      answering = true;
      await waitForLiveness(client, "beam-sdk-2", Liveness.HEALTHY, 10_000);
    } finally {
      harness.stop();
    }
  });
});
