import { describe, expect, it } from "vitest";
import { createLogOnce } from "./log-once.js";

describe("createLogOnce", () => {
  it("says yes once per key, again after everyMs, and stays bounded", () => {
    let now = 0;
    const once = createLogOnce({ max: 2, everyMs: 1000 }, { monotonic: () => now });
    expect([once("a"), once("a"), once("b")]).toEqual([true, false, true]);
    now = 1000;
    expect(once("a")).toBe(true);
    expect(once("c")).toBe(true); // memory was full: cleared
    expect(once("b")).toBe(true);
  });
});
