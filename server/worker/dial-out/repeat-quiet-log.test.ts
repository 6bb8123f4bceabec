import { describe, expect, it } from "vitest";
import { RepeatQuietLog } from "./repeat-quiet-log.js";
import { memoryLog } from "../agent-client/testing/memory-log.js";

describe("RepeatQuietLog", () => {
  it("warns on a new or changed problem, debugs repeats, and re-arms when all is well", () => {
    const { log, lines } = memoryLog();
    const q = new RepeatQuietLog(log, "partial");
    for (const p of ["late", "late", "failed", "", "failed"]) q.note(p);
    expect(lines.map((l) => [l.level, l.error])).toEqual([
      [40, "late"],
      [20, "late"],
      [40, "failed"],
      [40, "failed"],
    ]);
  });
});
