import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ProfileResultSchema } from "../../../../gen/stallwatch/v1/agent_pb.js";
import { collapsedStacks, speedscopeJson } from "./profile-export.js";
import { profileRows } from "./profile-table.js";

/** The seed's story: 100% in recv_into under sync, one recursion to count once. */
const seed = create(ProfileResultSchema, {
  intervalUs: 10_000,
  frames: [
    { function: "sync", file: "kubernetes_executor.py", line: 795 },
    { function: "recv_into", file: "OpenSSL/SSL.py", line: 1821 },
    { function: "(idle)", file: "", line: 0 },
  ],
  threads: [
    {
      threadId: "t1",
      name: "MainThread",
      stacks: [
        { frames: [0, 0, 1], count: 3n },
        { frames: [0, 1], count: 1n },
      ],
    },
    { threadId: "t2", name: "other", stacks: [{ frames: [2], count: 4n }] },
  ],
});

describe("profileRows", () => {
  it("gives py-spy's %Own and %Total, counting a recursive frame once per sample", () => {
    const rows = profileRows(seed, "t1");
    expect(rows.map((r) => [r.function, r.location, r.ownPct, r.totalPct])).toEqual([
      ["recv_into", "OpenSSL/SSL.py:1821", 100, 100],
      ["sync", "kubernetes_executor.py:795", 0, 100],
    ]);
    expect(rows[0]?.totalSeconds).toBeCloseTo(0.04);
  });

  it("shares every thread's samples when no thread is chosen", () => {
    const rows = profileRows(seed);
    expect(rows.find((r) => r.function === "(idle)")?.ownPct).toBe(50);
    expect(rows.find((r) => r.function === "(idle)")?.location).toBe("");
  });
});

describe("exports", () => {
  it("writes flamegraph.pl's collapsed stacks, root first, thread on top", () => {
    expect(collapsedStacks(seed, "t1")).toBe(
      "MainThread;sync (kubernetes_executor.py:795);sync (kubernetes_executor.py:795);recv_into (OpenSSL/SSL.py:1821) 3\n" +
        "MainThread;sync (kubernetes_executor.py:795);recv_into (OpenSSL/SSL.py:1821) 1\n",
    );
  });

  it("writes speedscope's sampled profiles over one frame table", () => {
    const doc = JSON.parse(speedscopeJson(seed, "p1")) as {
      shared: { frames: { name: string }[] };
      profiles: { type: string; samples: number[][]; weights: number[]; endValue: number }[];
    };
    expect(doc.shared.frames.map((f) => f.name)).toEqual(["sync", "recv_into", "(idle)"]);
    expect(doc.profiles[0]).toMatchObject({
      type: "sampled",
      samples: [
        [0, 0, 1],
        [0, 1],
      ],
      weights: [30_000, 10_000],
      endValue: 40_000,
    });
  });
});
