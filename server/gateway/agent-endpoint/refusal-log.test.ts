import { describe, expect, it } from "vitest";
import { memoryLog } from "../../worker/agent-client/testing/memory-log.js";
import { RefusalLog } from "./refusal-log.js";

describe("RefusalLog", () => {
  it("logs the first refusals per reason one by one and sums the rest", () => {
    const { log, lines } = memoryLog();
    const r = new RefusalLog(log, 2, 60_000);
    for (let i = 0; i < 5; i++) r.refused("rate", { peer: `p${i}` }, "agent refused: too many");
    r.refused("token", {}, "agent refused: token");
    r.flush();
    expect(lines.filter((l) => l.msg === "agent refused: too many")).toHaveLength(2);
    expect(lines.filter((l) => l.msg === "agent refused: token")).toHaveLength(1);
    expect(lines.find((l) => l.msg === "more agent refusals than logged one by one")).toMatchObject(
      {
        reason: "rate",
        suppressed: 3,
        total: 5,
      },
    );
  });
});
