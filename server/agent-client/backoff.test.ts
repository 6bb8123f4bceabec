import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";

describe("Backoff", () => {
  it("doubles from the base up to the cap, with ±20% jitter, and resets", () => {
    const b = new Backoff(100, 1000);
    const waits = Array.from({ length: 6 }, () => b.next());
    const exact = [100, 200, 400, 800, 1000, 1000];
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual((exact[i] ?? 0) * 0.8);
      expect(w).toBeLessThanOrEqual((exact[i] ?? 0) * 1.2);
    });
    b.reset();
    expect(b.next()).toBeLessThanOrEqual(120);
  });
});
