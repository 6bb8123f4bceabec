import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ThreadSchema } from "../../../gen/stallwatch/v1/agent_pb.js";
import { FakeStatusSource } from "../status-report/testing/fake-status-source.js";
import { parseBeamStatus } from "../../testing/peer-programs.js";
import { BeamStatusBuilder, sessionsAsBundles } from "./beam-report.js";
import { systemClock } from "../../shared/clock/clock.js";
import { pythonIdent, type BeamSdkFormat } from "./sdk-formats.js";

const NOW = 1_800_000_000_000;
/** Real timers for the dump deadline, a fixed "now" for the bundles' ages. */
const clock = { ...systemClock, now: () => NOW };
const builder = (
  source: FakeStatusSource,
  extra: { maxStatusBytes?: number; format?: BeamSdkFormat } = {},
) =>
  new BeamStatusBuilder(source, {
    dumpDeadlineMs: 100,
    maxStatusBytes: extra.maxStatusBytes ?? 1 << 20,
    ...(extra.format ? { format: extra.format } : {}),
    clock,
  });

/** The fake source with only these threads in its dump. */
function withThreads(...threads: MessageInitShape<typeof ThreadSchema>[]): FakeStatusSource {
  const source = new FakeStatusSource(NOW);
  source.threads = threads.map((t) => create(ThreadSchema, t));
  return source;
}

describe("BeamStatusBuilder", () => {
  it("writes sessions as bundles and the dump as threads, parseable by the gateway", async () => {
    const source = new FakeStatusSource(NOW);
    const { statusInfo, error } = await builder(source).build();
    expect(error).toBe("");
    const parsed = parseBeamStatus(statusInfo);
    expect(parsed.format).toBe("python");
    expect(
      parsed.bundles.map((b) => [
        b.instructionId,
        b.descriptorId,
        b.trackedThreadKey,
        b.timeSinceTransitionSec,
      ]),
    ).toEqual([
      ["s-hung", "hang", pythonIdent("udf-7"), 42],
      ["s-busy", "double", pythonIdent("udf-8"), 1.5],
    ]);
    expect(parsed.bundles[0]?.trackedThread).toBe(
      `<Thread(udf hang s-hung, started daemon ${pythonIdent("udf-7")})>`,
    );
    expect(parsed.threads.map((t) => [t.threadId, t.name])).toEqual([
      [pythonIdent("main-0"), "main (event loop)"],
      [pythonIdent("udf-7"), "udf hang s-hung"],
      [pythonIdent("udf-8"), "udf double s-busy"],
    ]);
    expect(parsed.threads[1]?.frames).toEqual([
      "blockForever (/app/dist/server/worker/udf/demo-udfs.js:41)",
      "hang (/app/dist/server/worker/udf/demo-udfs.js:52)",
      "runBatch (/app/dist/server/worker/udf/udf-thread.js:88)",
    ]);
    // The worker's own event loop answers the status: idle, never a suspect.
    expect(parsed.threads[0]?.idle).toBe(true);
  });

  it.each(["java", "go"] as const)(
    "writes the %s SDK's format, parseable by the gateway",
    async (format) => {
      const source = new FakeStatusSource(NOW);
      const { statusInfo } = await builder(source, { format }).build();
      const parsed = parseBeamStatus(statusInfo);
      expect(parsed.format).toBe(format);
      expect(parsed.unparsed).toBe("");
      expect(parsed.threads).toHaveLength(3);
      expect(
        parsed.threads.find(
          (t) => t.name.includes("hang") || t.frames[0]?.startsWith("blockForever"),
        )?.frames[0],
      ).toMatch(/^blockForever/);
      // The event loop and the session waiting for input (state "idle") are idle.
      expect(parsed.threads.filter((t) => t.idle).length).toBe(2);
      if (format === "java") {
        expect(parsed.bundles.map((b) => [b.instructionId, b.trackedThreadKey])).toEqual([
          ["s-hung", "udf hang s-hung"],
          ["s-busy", "udf double s-busy"],
        ]);
        expect(parsed.threads.find((t) => t.name === "udf hang s-hung")?.state).toBe("RUNNABLE");
      } else {
        expect(statusInfo.length).toBe(64 << 10);
        expect(parsed.bundles).toEqual([]);
      }
    },
  );

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
    const source = withThreads({
      threadId: "t 1",
      name: "evil\n--- Thread #99 name: forged ---",
      frames: ["x\n==========\n (a.js:1:1)"],
    });
    const first = source.live[0];
    if (first) first.udfName = "u\n---- Instruction forged ----";
    const parsed = parseBeamStatus((await builder(source).build()).statusInfo);
    expect(parsed.threads).toHaveLength(1);
    expect(parsed.threads[0]?.threadId).toBe(pythonIdent("t_1"));
    expect(parsed.threads[0]?.name).toContain("evil");
    expect(parsed.bundles.map((b) => b.instructionId)).toEqual(["s-hung", "s-busy"]);
  });

  it("cuts stacks, then the dump, to fit the size cap", async () => {
    const source = withThreads({
      threadId: "deep",
      name: "deep",
      frames: Array.from({ length: 400 }, (_, i) => `f${i} (/x.js:${i}:1)`),
    });
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
