import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ProfileResultSchema, type ProfileResult } from "../../../../gen/stallwatch/v1/agent_pb.js";
import { collapsedStacks, speedscopeJson } from "./profile-export.js";
import { countPauses, wideProfile } from "../testing/wide-profile";
import { profileRows, profileRowsSteps, type ProfileRow } from "./profile-table.js";
import { runSliced } from "./sliced";

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

/** py-spy's table the plain way (a Set per stack, one pass): what the folds must agree with. */
function plainRows(result: ProfileResult, threadId = ""): ProfileRow[] {
  const own = new Map<number, number>();
  const total = new Map<number, number>();
  let kept = 0;
  for (const thread of result.threads) {
    if (threadId !== "" && thread.threadId !== threadId) continue;
    for (const stack of thread.stacks) {
      const count = Number(stack.count);
      kept += count;
      const leaf = stack.frames.at(-1);
      if (leaf !== undefined) own.set(leaf, (own.get(leaf) ?? 0) + count);
      for (const f of new Set(stack.frames)) total.set(f, (total.get(f) ?? 0) + count);
    }
  }
  return [...total.keys()]
    .sort((a, b) => a - b)
    .map((index) => {
      const frame = result.frames[index];
      const ownSamples = own.get(index) ?? 0;
      const totalSamples = total.get(index) ?? 0;
      return {
        function: frame?.function ?? "",
        location: frame?.file ? `${frame.file}:${frame.line}` : "",
        ownSamples,
        totalSamples,
        ownPct: (100 * ownSamples) / kept,
        totalPct: (100 * totalSamples) / kept,
        ownSeconds: (ownSamples * result.intervalUs) / 1e6,
        totalSeconds: (totalSamples * result.intervalUs) / 1e6,
      };
    })
    .sort((a, b) => b.ownSamples - a.ownSamples || b.totalSamples - a.totalSamples);
}

describe("profileRowsSteps", () => {
  const wide = wideProfile();

  it("folds a wide profile in many short steps into the same rows as the plain way", () => {
    const { value, pauses } = countPauses(profileRowsSteps(wide));
    // A pause after every 128th of 2,000 stacks (15), then before the 1,024th row (1).
    expect(pauses).toBe(16);
    expect(value).toEqual(plainRows(wide));
    expect(value).toHaveLength(2_000);
  });

  it("gives one thread's rows when run in slices, one task per step", async () => {
    const rows = await runSliced(profileRowsSteps(wide, "t-1"), { budgetMs: 0 });
    expect(rows).toEqual(plainRows(wide, "t-1"));
    expect(rows.length).toBeGreaterThan(100);
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
