import { describe, expect, it } from "vitest";
import { FrameTable, StackCounts } from "./folded-stacks.js";
import { foldV8Profile, type V8Profile } from "./v8-fold.js";

const frame = (functionName: string, lineNumber = -1, url = "") => ({
  functionName,
  url,
  lineNumber,
});

/** root → process (file:///x/demo-udfs.js:10) → spin; root → (idle). */
const profile: V8Profile = {
  nodes: [
    { id: 1, callFrame: frame("(root)"), children: [2, 4] },
    { id: 2, callFrame: frame("process", 9, "file:///x/demo-udfs.js"), children: [3] },
    { id: 3, callFrame: frame("", 20, "file:///x/demo-udfs.js") },
    { id: 4, callFrame: frame("(idle)") },
  ],
  startTime: 1000,
  endTime: 5000,
  samples: [3, 3, 2, 4],
  timeDeltas: [1000, 1000, 1000, 1000],
};

describe("foldV8Profile", () => {
  it("folds each sample into its root-first path, without (root), with 1-based lines and plain paths", () => {
    const table = new FrameTable();
    const counts = new StackCounts();
    expect(foldV8Profile(profile, table, counts)).toBe(4);
    expect(table.frames.map((f) => `${f.function}@${f.file}:${f.line}`)).toEqual([
      "process@/x/demo-udfs.js:10",
      "(anonymous)@/x/demo-udfs.js:21",
      "(idle)@:0",
    ]);
    expect(counts.toProto().map((s) => [s.frames, Number(s.count)])).toEqual([
      [[0, 1], 2],
      [[0], 1],
      [[2], 1],
    ]);
  });

  it("keeps only what `keep` accepts, by sample time and innermost function", () => {
    const counts = new StackCounts();
    foldV8Profile(profile, new FrameTable(), counts, (t, leaf) => leaf !== "(idle)" && t <= 3000);
    expect(counts.kept).toBe(2);
  });

  it("does not loop on a malformed profile whose nodes form a cycle", () => {
    const cyclic: V8Profile = {
      nodes: [
        { id: 1, callFrame: frame("a"), children: [2] },
        { id: 2, callFrame: frame("b"), children: [1] },
      ],
      startTime: 0,
      endTime: 1,
      samples: [2],
      timeDeltas: [1],
    };
    const counts = new StackCounts();
    foldV8Profile(cyclic, new FrameTable(), counts);
    expect(counts.kept).toBe(1);
  });
});
