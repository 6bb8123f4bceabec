import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Liveness, WorkerKind } from "../../../gen/stallwatch/v1/fleet_pb.js";
import { FakeStatusSource } from "../status-report/testing/fake-status-source.js";
import { startInProcessGateway, type InProcessGateway } from "../../testing/in-process-gateway.js";
import { memoryLog } from "../agent-client/testing/memory-log.js";
import { parseBeamStatus } from "../../testing/peer-programs.js";
import { pythonIdent } from "./sdk-formats.js";
import { parseHostPort } from "../../shared/net/host-port.js";
import { fleetClient, waitForLiveness } from "../../testing/fleet-client.js";
import { pollUntil } from "../../testing/poll.js";
import * as harness from "../dial-out/testing/client-harness.js";
import { startBeamStatusClient } from "./beam-status-client.js";
import { systemClock } from "../../shared/clock/clock.js";

/*
 * Beam mode in this process against a real gateway (a `stallwatch gateway`
 * process, or one built in-process to read what it stored); the worker it
 * reports on is a deterministic fake (FakeStatusSource).
 */

const STATUS_PATH = "/org.apache.beam.model.fn_execution.v1.BeamFnWorkerStatus/WorkerStatus";

const beam = harness.stoppedAfterEach(startBeamStatusClient);

describe("Beam mode against a real gateway process", () => {
  const gateway = harness.gatewayForDescribe();

  it("shows up as a healthy BEAM worker keyed by worker_id, its sessions as bundles, and follows a gateway restart", async () => {
    const { log, waitFor } = memoryLog();
    const http = String(gateway.current.listening.http);
    const grpc = String(gateway.current.listening.grpc);
    const client = beam({
      clock: systemClock,
      statusAddress: parseHostPort(grpc),
      workerId: "beam-fake-1",
      source: new FakeStatusSource(Date.now()),
      log,
      backoff: harness.FAST_RECONNECT,
    });

    const w = await waitForLiveness(fleetClient(http), "beam-fake-1", Liveness.HEALTHY, 20_000);
    expect(w.kind).toBe(WorkerKind.BEAM);
    expect(w.latency?.samples).toBeGreaterThan(0);
    await gateway.current.waitForLog(
      (l) => l.msg === "beam harness connected" && l.worker === "beam-fake-1",
    );
    await harness.waitConnected(client, true);

    const detail = await pollUntil(
      async () => {
        const d = (await fleetClient(http).getWorker({ workerId: "beam-fake-1" })).detail;
        return d?.sessions.length === 2 && d.latestDump ? d : undefined;
      },
      { timeoutMs: 20_000, what: "bundles and a parsed dump on the dashboard" },
    );
    expect(detail.latestDump?.source).toBe("beam");
    expect(detail.sessions.map((s) => [s.session?.sessionId, s.session?.udfName])).toEqual([
      ["s-hung", "hang"],
      ["s-busy", "double"],
    ]);
    expect(
      detail.latestDump?.threads.find((t) => t.thread?.threadId === pythonIdent("udf-7"))?.thread
        ?.frames[0],
    ).toBe("blockForever (/app/dist/server/worker/udf/demo-udfs.js:41)");

    await gateway.current.stop();
    await harness.waitConnected(client, false);
    await waitFor(
      (l) => typeof l.msg === "string" && /disconnected from the Beam status endpoint/.test(l.msg),
      "disconnect",
    );
    gateway.current = await harness.startGateway(http, grpc);
    const again = await waitForLiveness(fleetClient(http), "beam-fake-1", Liveness.HEALTHY, 30_000);
    expect(again.kind).toBe(WorkerKind.BEAM);
  });
});

describe("Beam mode through an in-process gateway", () => {
  let gw: InProcessGateway;
  beforeAll(async () => {
    // Ask every 200 ms so a handful of round trips happen quickly.
    gw = await startInProcessGateway(memoryLog().log, { intervalMs: 200 });
  });
  afterAll(async () => {
    await gw.close();
  });

  it("answers on ONE stream with text that parses back into the supplied bundles and threads", async () => {
    const { log } = memoryLog();
    const now = Date.now();
    beam({
      clock: systemClock,
      statusAddress: gw.address,
      workerId: "beam-ip-1",
      source: new FakeStatusSource(now),
      log,
    });

    const worker = await pollUntil(
      () => {
        const w = gw.gateway.fleet.get("beam-ip-1");
        return w && w.roundTrips.size >= 5 ? w : undefined;
      },
      { timeoutMs: 20_000, what: "five answered status requests" },
    );
    expect(worker.kind).toBe("beam");
    expect(gw.streams.filter((p) => p === STATUS_PATH)).toHaveLength(1);

    const status = worker.beamStatus;
    expect(status?.error).toBe("");
    const parsed = parseBeamStatus(status?.raw ?? "");
    expect(
      parsed.bundles.map((b) => [b.instructionId, b.descriptorId, b.trackedThreadKey]),
    ).toEqual([
      ["s-hung", "hang", pythonIdent("udf-7")],
      ["s-busy", "double", pythonIdent("udf-8")],
    ]);
    // now − state_entered_at, taken when the answer was built.
    expect(parsed.bundles[0]?.timeSinceTransitionSec).toBeGreaterThanOrEqual(42);
    expect(parsed.bundles[0]?.timeSinceTransitionSec).toBeLessThan(
      42 + (Date.now() - now) / 1000 + 1,
    );
    expect(parsed.threads.map((t) => [t.threadId, t.name, t.frames])).toEqual([
      [pythonIdent("main-0"), "main (event loop)", ["<event loop> (<unknown>:0)"]],
      [
        pythonIdent("udf-7"),
        "udf hang s-hung",
        [
          "blockForever (/app/dist/server/worker/udf/demo-udfs.js:41)",
          "hang (/app/dist/server/worker/udf/demo-udfs.js:52)",
          "runBatch (/app/dist/server/worker/udf/udf-thread.js:88)",
        ],
      ],
      [
        pythonIdent("udf-8"),
        "udf double s-busy",
        ["waitForBatch (/app/dist/server/worker/udf/udf-thread.js:30)"],
      ],
    ]);
  });

  it("answers with the bundles and an error when the dump misses its deadline, and error alone when nothing can be had", async () => {
    const { log } = memoryLog();
    const source = new FakeStatusSource(Date.now());
    source.dumpMode = "hang";
    beam({
      clock: systemClock,
      statusAddress: gw.address,
      workerId: "beam-ip-slow",
      source,
      log,
      dumpDeadlineMs: 100,
    });
    const late = await pollUntil(() => gw.gateway.fleet.get("beam-ip-slow")?.beamStatus, {
      timeoutMs: 20_000,
      what: "an answer",
    });
    expect(late.error).toMatch(/thread dump not ready within 100 ms/);
    expect(parseBeamStatus(late.raw).bundles).toHaveLength(2);

    source.sessionsFail = true;
    const broken = await pollUntil(
      () => {
        const s = gw.gateway.fleet.get("beam-ip-slow")?.beamStatus;
        return s && /sessions unavailable/.test(s.error) ? s : undefined;
      },
      { timeoutMs: 20_000, what: "an error answer" },
    );
    expect(broken.raw).toBe("");
  });
});

describe("Beam mode when the endpoint cannot be reached", () => {
  it("keeps retrying, says why, and stops promptly", async () => {
    await harness.expectRefusedPeerHandled("Beam status endpoint", (statusAddress, log) =>
      beam({
        clock: systemClock,
        statusAddress,
        workerId: "beam-nowhere",
        source: new FakeStatusSource(Date.now()),
        log,
        backoff: harness.QUICK_RETRY,
      }),
    );
  });
});
