import { describe, expect, it } from "vitest";
import { StreamBudget } from "./stream-budget.js";

describe("StreamBudget", () => {
  it("is over budget past the limit within a window, and forgives after it", () => {
    let now = 0;
    const b = new StreamBudget(2, 1000, { monotonic: () => now });
    expect([b.strike(), b.strike(), b.strike()]).toEqual([false, false, true]);
    now = 1500;
    expect(b.strike()).toBe(false);
    expect(b.count).toBe(1);
  });
});
