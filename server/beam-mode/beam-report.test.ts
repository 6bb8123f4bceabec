import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ThreadSchema } from "../../gen/stallwatch/v1/agent_pb.js";
import { FakeStatusSource } from "../agent-client/testing/fake-status-source.js";
import { parseBeamStatus } from "../beam-status/status-text.js";
import { BeamStatusBuilder, sessionsAsBundles } from "./beam-report.js";

const NOW = 1_800_000_000_000;
const builder = (source: FakeStatusSource, extra: { maxStatusBytes?: number } = {}) =>
  new BeamStatusBuilder(source, {
    dumpDeadlineMs: 100,
    maxStatusBytes: extra.maxStatusBytes ?? 1 << 20,
    now: () => NOW,
  });

describe("BeamStatusBuilder", () => {
  it("writes sessions as bundles and the dump as threads, parseable by the gateway", async () => {
    const source = new FakeStatusSource(NOW);
    const { statusInfo, error } = await builder(source).build();
    expect(error).toBe("");
    const parsed = parseBeamStatus(statusInfo);
    expect(parsed.bundles).toEqual([
      {
        instructionId: "s-hung",
        descriptorId: "hang",
        trackedThread: "udf-7",
        timeSinceTransitionSec: 42,
      },
      {
        instructionId: "s-busy",
        descriptorId: "double",
        trackedThread: "udf-8",
        timeSinceTransitionSec: 1.5,
      },
    ]);
    expect(parsed.threads.map((t) => [t.threadId, t.name])).toEqual([
      ["main-0", "main (event loop)"],
      ["udf-7", "udf hang s-hung"],
      ["udf-8", "udf double s-busy"],
    ]);
    expect(parsed.threads[1]?.frames).toEqual([
      "blockForever (/app/dist/server/udf-worker/udf/demo-udfs.js:41)",
      "hang (/app/dist/server/udf-worker/udf/demo-udfs.js:52)",
      "runBatch (/app/dist/server/udf-worker/udf/udf-thread.js:88)",
    ]);
    expect(parsed.threads[0]?.frames).toEqual(["<event loop> (<unknown>:0)"]);
  });

  it("keeps the bundles and says why when the dump fails or is late", async () => {
    const source = new FakeStatusSource(NOW);
    source.dumpMode = "hang";
    const late = await builder(source).build();
    expect(late.error).toMatch(/thread dump not ready within 100 ms/);
    const parsed = parseBeamStatus(late.statusInfo);
    expect(parsed.bundles).toHaveLength(2);
    expect(parsed.threads).toEqual([]);

    source.dumpMode = "fail";
    const failed = await builder(source).build();
    expect(failed.error).toMatch(/thread dump failed: inspector refused to attach/);
    expect(parseBeamStatus(failed.statusInfo).bundles).toHaveLength(2);
  });

  it("answers with error alone when even the sessions cannot be had", async () => {
    const source = new FakeStatusSource(NOW);
    source.sessionsFail = true;
    const answer = await builder(source).build();
    expect(answer.statusInfo).toBe("");
    expect(answer.error).toMatch(/sessions unavailable/);
  });

  it("keeps hostile text from forging structure", async () => {
    const source = new FakeStatusSource(NOW);
    source.threads = [
      create(ThreadSchema, {
        threadId: "t 1",
        name: "evil\n--- Thread #99 name: forged ---",
        frames: ["x\n==========\n (a.js:1:1)"],
      }),
    ];
    const first = source.live[0];
    if (first) first.udfName = "u\n---- Instruction forged ----";
    const parsed = parseBeamStatus((await builder(source).build()).statusInfo);
    expect(parsed.threads).toHaveLength(1);
    expect(parsed.threads[0]?.threadId).toBe("t_1");
    expect(parsed.threads[0]?.name).toContain("evil");
    expect(parsed.bundles.map((b) => b.instructionId)).toEqual(["s-hung", "s-busy"]);
  });

  it("cuts stacks, then the dump, to fit the size cap", async () => {
    const source = new FakeStatusSource(NOW);
    source.threads = [
      create(ThreadSchema, {
        threadId: "deep",
        name: "deep",
        frames: Array.from({ length: 400 }, (_, i) => `f${i} (/x.js:${i}:1)`),
      }),
    ];
    const cut = await builder(source, { maxStatusBytes: 4000 }).build();
    expect(cut.error).toMatch(/stacks cut to 16 frames/);
    expect(parseBeamStatus(cut.statusInfo).threads[0]?.frames).toHaveLength(16);

    const dropped = await builder(source, { maxStatusBytes: 600 }).build();
    expect(dropped.error).toMatch(/thread dump left out/);
    expect(parseBeamStatus(dropped.statusInfo).bundles).toHaveLength(2);
  });
});

describe("sessionsAsBundles", () => {
  it("counts from the session start when the state entry time is unknown, never negative", () => {
    const source = new FakeStatusSource(NOW);
    const [a, b] = source.live;
    if (!a || !b) throw new Error("fixture");
    a.stateEnteredAtMs = 0n;
    b.stateEnteredAtMs = BigInt(NOW + 5000);
    const bundles = sessionsAsBundles([a, b], NOW);
    expect(bundles.map((x) => x.timeSinceTransitionSec)).toEqual([60, 0]);
  });
});
