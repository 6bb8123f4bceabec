import { readFileSync } from "node:fs";
import { Code } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toJsonString } from "@bufbuild/protobuf";
import {
  GetWorkerResponseSchema,
  Liveness,
  WorkerKind,
  type WorkerDetail,
} from "../../../gen/stallwatch/v1/fleet_pb.js";
import { fleetClient, waitForLiveness } from "../../testing/fleet-client.js";
import { unusedPort } from "../../testing/misbehaving-peers.js";
import { pollUntil } from "../../testing/poll.js";
import { killAllStarted } from "../../testing/spawn-stallwatch.js";
import { startTestGateway, type TestGateway } from "../../testing/test-gateway.js";
import { sendRawFrame, startTestHarness } from "../beam-text/testing/fixture-harness.js";
import { MAX_RAW_VIEW_CHARS } from "../status-intake/readable-text.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../beam-text/fixtures/${name}`, import.meta.url)).toString("utf8");

/** Real SDK texts sent verbatim, and what the gateway must make of each. */
const CASES = [
  {
    sdk: "python",
    text: fixture("python-sdk-status.txt"),
    sessions: [["instruction-42", "139630259205824"]],
    stalled: ["instruction-42"],
    notMoving: ["pod-launcher-sync"],
    threads: 6,
  },
  {
    sdk: "java",
    text: fixture("java-sdk-status.txt"),
    sessions: [
      ["17", "pool-3-thread-2"],
      ["21", "pool-3-thread-5"],
    ],
    stalled: ["17"],
    notMoving: ["pool-3-thread-2"],
    threads: 7,
  },
  {
    sdk: "go",
    text: fixture("go-sdk-status.bin"),
    sessions: [],
    stalled: [],
    notMoving: ["goroutine 57"],
    threads: 4,
  },
] as const;

describe("Beam SDK status texts through a real gateway over gRPC", () => {
  let gateway: TestGateway;
  let client: ReturnType<typeof fleetClient>;
  let grpc: string;
  let http: string;
  let staticId: string;

  beforeAll(async () => {
    staticId = await unusedPort();
    gateway = await startTestGateway({
      workers: [staticId],
      // The Python fixture's bundle is 8.39 s since its last transition.
      flags: { "stall-no-progress-ms": 5000, "not-moving-ms": 5000 },
    });
    ({ http, grpc } = gateway);
    client = fleetClient(http);
  });

  afterAll(async () => {
    await gateway.stop();
    killAllStarted();
  });

  const detailWithDump = (id: string) =>
    pollUntil(
      async () => {
        const res = await client.getWorker({ workerId: id });
        return res.detail?.latestDump ? res.detail : undefined;
      },
      { what: `a dump from ${id}` },
    );

  for (const c of CASES) {
    it(`${c.sdk}: sessions, stalls, threads and the one thread not moving`, async () => {
      const id = `fixture-${c.sdk}`;
      const harness = startTestHarness(grpc, id, () => c.text);
      try {
        const w = await waitForLiveness(client, id, Liveness.HEALTHY);
        expect(w.kind).toBe(WorkerKind.BEAM);
        const detail: WorkerDetail = await detailWithDump(id);
        const dump = detail.latestDump;
        expect(dump?.source).toBe("beam");
        // Go's NUL padding goes at ingest; the text itself arrives whole.
        expect(dump?.rawText).toBe(c.text.replace(/\0+$/, ""));
        expect(detail.beamStatus?.raw).toBe(dump?.rawText);
        expect(dump?.threads).toHaveLength(c.threads);
        expect(dump?.threads.filter((t) => t.notMoving).map((t) => t.thread?.name)).toEqual(
          c.notMoving,
        );
        expect(detail.beamStatus?.format).toBe(c.sdk);
        expect(detail.beamStatus?.unparsed).toBe("");
        expect(detail.beamStatus?.bundles.map((b) => [b.instructionId, b.threadId])).toEqual(
          c.sessions,
        );
        expect(detail.sessions.map((s) => [s.session?.sessionId, s.session?.threadId])).toEqual(
          c.sessions,
        );
        // Each bundle's thread carries its session id (for &session= highlighting).
        for (const [sessionId, threadId] of c.sessions)
          expect(
            dump?.threads.find((t) => t.thread?.threadId === threadId)?.thread?.sessionId,
          ).toBe(sessionId);

        const stalled = await pollUntil(
          async () => {
            const res = await client.listStalledSessions({});
            const mine = res.sessions.filter((s) => s.workerId === id);
            return mine.length === c.stalled.length ? mine : undefined;
          },
          { what: `${c.sdk} stalled bundles` },
        );
        expect(stalled.map((s) => s.session?.sessionId)).toEqual(c.stalled);
        if (c.stalled.length > 0) {
          const { events } = await client.listEvents({ workerId: id, kind: "session_stalled" });
          expect(events[0]?.evidence?.threads.length).toBe(c.threads);
        }
      } finally {
        harness.close();
      }
      const exited = await waitForLiveness(client, id, Liveness.EXITED);
      expect(exited.livenessReason).toMatch(/closed its status stream/);
    });
  }

  it("keeps text no parser knows raw, counted in /metrics, and it decides nothing", async () => {
    const harness = startTestHarness(grpc, "mystery", () => "all is well\nnothing stuck here\n");
    try {
      await waitForLiveness(client, "mystery", Liveness.HEALTHY);
      const detail = await detailWithDump("mystery");
      expect(detail.beamStatus?.format).toBe("unknown");
      expect(detail.beamStatus?.unparsed).toBe("all is well\nnothing stuck here");
      expect(detail.latestDump?.threads).toEqual([]);
      expect(detail.sessions).toEqual([]);
      const metrics = await (await fetch(`http://${http}/metrics`)).text();
      expect(metrics).toMatch(/stallwatch_beam_status_texts_total\{format="unknown"\} [1-9]/);
    } finally {
      harness.close();
    }
  });

  it("go: GetWorker carries no NUL padding, so it is the size of the text (issue 19, item 2)", async () => {
    const go = fixture("go-sdk-status.bin");
    expect(go.length).toBe(65_536); // the whole runtime.Stack buffer, as the Go SDK sends it
    const harness = startTestHarness(grpc, "go-size", () => go);
    try {
      await detailWithDump("go-size");
      const res = await client.getWorker({ workerId: "go-size" });
      const json = toJsonString(GetWorkerResponseSchema, res);
      // Was 769 KB, 760 KB of it \u0000: twice 63,340 NULs (dump and raw status).
      expect(json).not.toContain("\\u0000");
      expect(json.length).toBeLessThan(20_000);
      expect(res.detail?.latestDump?.rawText).toMatch(/^goroutine \d+ \[running\]:/);
      expect(res.detail?.latestDump?.rawText).toContain("goroutine 57 [IO wait, 7 minutes]:");
      expect(res.detail?.latestDump?.truncated).toBe(false);
      expect(res.detail?.beamStatus?.truncated).toBe(false);
    } finally {
      harness.close();
    }
  });

  it("caps the raw view of a long text with a visible marker and the truncated flag", async () => {
    // 700 KB of a real Java dump (under the 1 MiB byte cap): the parser reads
    // it all, the raw view keeps MAX_RAW_VIEW_CHARS, control characters go.
    const java = fixture("java-sdk-status.txt");
    const long = `${java}\r\n\u0007${"\n".repeat(4)}${"x".repeat(700_000)}\u0000\u0000`;
    const harness = startTestHarness(grpc, "long-text", () => long);
    try {
      const detail = await detailWithDump("long-text");
      const raw = detail.latestDump?.rawText ?? "";
      expect(raw.startsWith(java)).toBe(true);
      for (const control of ["\0", "\r", "\u0007"]) expect(raw).not.toContain(control);
      expect(raw.length).toBeLessThan(MAX_RAW_VIEW_CHARS + 200);
      expect(raw).toMatch(/…\[truncated \d+ chars: the gateway keeps 262144 of a status text\]$/);
      expect(detail.latestDump?.truncated).toBe(true);
      expect(detail.beamStatus?.truncated).toBe(true);
      expect(detail.beamStatus?.raw).toBe(raw);
      // Parsed from the whole text: the Java threads are all there.
      expect(detail.latestDump?.threads).toHaveLength(7);
    } finally {
      harness.close();
    }
  });

  it("keys a harness without worker_id by its peer address, with a warning and an event", async () => {
    const harness = startTestHarness(grpc, undefined, () => fixture("python-sdk-status.txt"));
    try {
      const w = await pollUntil(
        async () => (await client.listWorkers({})).workers.find((x) => x.id.startsWith("peer:")),
        { what: "a peer:<address> row" },
      );
      expect(w.id).toMatch(/^peer:127\.0\.0\.1:\d+$/);
      await gateway.waitForLog((l) => String(l.msg).includes("sent no worker_id header"));
      const { events } = await client.listEvents({ workerId: w.id });
      expect(events.some((e) => e.summary.includes("no worker_id header"))).toBe(true);
    } finally {
      harness.close();
    }
  });

  it("refuses a second live stream for one id, and a Beam id equal to a static worker's", async () => {
    const first = startTestHarness(grpc, "beam-dup", () => fixture("java-sdk-status.txt"));
    try {
      await waitForLiveness(client, "beam-dup", Liveness.HEALTHY);
      const impostor = startTestHarness(grpc, "beam-dup", () => "impostor");
      const refused = await impostor.ended;
      expect(refused.code).toBe(String(Code.AlreadyExists));
      expect(refused.message).toMatch(/bound to a live Beam status stream/);
      await gateway.waitForLog(
        (l) => l.msg === "beam status stream refused" && l.reason === "duplicate_id",
      );
      const detail = await detailWithDump("beam-dup");
      expect(detail.beamStatus?.format).toBe("java");
      expect(detail.worker?.liveness).toBe(Liveness.HEALTHY);

      const kind = startTestHarness(grpc, staticId, () => "x");
      const byKind = await kind.ended;
      expect(byKind.code).toBe(String(Code.AlreadyExists));
      expect(byKind.message).toMatch(/static Spark worker/);
      const row = (await client.listWorkers({})).workers.find((x) => x.id === staticId);
      expect(row?.kind).toBe(WorkerKind.SPARK);
    } finally {
      first.close();
    }
  });

  it("refuses a fifth stream on one connection with RESOURCE_EXHAUSTED, counted in /metrics", async () => {
    const shared = createGrpcTransport({ baseUrl: `http://${grpc}` });
    const harnesses = [1, 2, 3, 4].map((i) =>
      startTestHarness(grpc, `conn-${i}`, () => "x", shared),
    );
    try {
      for (const i of [1, 2, 3, 4]) await waitForLiveness(client, `conn-${i}`, Liveness.HEALTHY);
      const fifth = startTestHarness(grpc, "conn-5", () => "x", shared);
      const ended = await fifth.ended;
      expect(ended.code).toBe(String(Code.ResourceExhausted));
      expect(ended.message).toMatch(/on one connection \(cap 4\)/);
      const metrics = await (await fetch(`http://${http}/metrics`)).text();
      expect(metrics).toMatch(/stallwatch_beam_streams_refused_total\{reason="connection_cap"\} 1/);
    } finally {
      for (const h of harnesses) h.close();
    }
  });

  it("shows a reset stream as gone and a clean close as exited", async () => {
    const h = startTestHarness(grpc, "beam-crash", () => fixture("go-sdk-status.bin"));
    await waitForLiveness(client, "beam-crash", Liveness.HEALTHY);
    h.reset();
    const gone = await waitForLiveness(client, "beam-crash", Liveness.GONE);
    expect(gone.livenessReason).toMatch(/broke|reset/);
  });

  it("ends a malformed message's stream with InvalidArgument", async () => {
    // Field 3 (status_info) claims 100 bytes and carries 2.
    const result = await sendRawFrame(grpc, "beam-garbage", Uint8Array.from([0x1a, 100, 1, 2]));
    expect(result.status).toBe(String(Code.InvalidArgument));
    expect(result.message).toMatch(/malformed WorkerStatusResponse/);
    await gateway.waitForLog(
      (l) => l.msg === "beam harness disconnected" && String(l.reason).includes("malformed"),
    );
  });
});
