import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";

describe("Backoff", () => {
  it("doubles from the initial wait up to the cap, with ±20% jitter, and resets", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000 });
    const waits = Array.from({ length: 6 }, () => b.next());
    const exact = [100, 200, 400, 800, 1000, 1000];
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual((exact[i] ?? 0) * 0.8);
      expect(w).toBeLessThanOrEqual((exact[i] ?? 0) * 1.2);
    });
    b.reset();
    expect(b.next()).toBeLessThanOrEqual(120);
  });

  it("defaults to 250 ms → 10 s and stays finite after a very long outage", () => {
    const b = new Backoff();
    expect(b.next()).toBeLessThanOrEqual(300);
    for (let i = 0; i < 2000; i++) b.next();
    const w = b.next();
    expect(w).toBeGreaterThanOrEqual(8000);
    expect(w).toBeLessThanOrEqual(12_000);
  });

  it("takes jitter 0 as exact waits", () => {
    const b = new Backoff({ initialMs: 10, maxMs: 40, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([10, 20, 40, 40]);
  });
});
