import { describe, expect, it } from "vitest";
import { SnapshotRateLimit } from "./snapshot-rate-limit.js";

function limiter(perCaller: number, total: number, maxCallers?: number) {
  let now = 1_000_000;
  const limit = new SnapshotRateLimit({
    perCallerPerMinute: perCaller,
    totalPerMinute: total,
    clock: { monotonic: () => now },
    ...(maxCallers ? { maxCallers } : {}),
  });
  return { limit, advance: (ms: number) => (now += ms) };
}

describe("SnapshotRateLimit", () => {
  it("allows a burst of the per-caller limit, then refuses with a retry time", () => {
    const { limit, advance } = limiter(3, 100);
    for (let i = 0; i < 3; i++) expect(limit.take("a")).toEqual({ ok: true });
    expect(limit.take("a")).toEqual({ ok: false, scope: "caller", retryAfterMs: 20_000 });
    advance(20_000);
    expect(limit.take("a").ok).toBe(true);
    expect(limit.take("a").ok).toBe(false);
  });

  it("keeps other callers unaffected by one caller's flood", () => {
    const { limit } = limiter(2, 100);
    for (let i = 0; i < 50; i++) limit.take("flood");
    expect(limit.take("other")).toEqual({ ok: true });
  });

  it("bounds everyone together, and a refused caller spends nothing of the shared budget", () => {
    const { limit, advance } = limiter(2, 3);
    expect(limit.take("a").ok).toBe(true);
    expect(limit.take("a").ok).toBe(true);
    for (let i = 0; i < 10; i++) expect(limit.take("a")).toMatchObject({ scope: "caller" });
    expect(limit.take("b").ok).toBe(true);
    expect(limit.take("c")).toMatchObject({ ok: false, scope: "overall", retryAfterMs: 20_000 });
    advance(60_000);
    expect(limit.take("c").ok).toBe(true);
  });

  it("remembers at most maxCallers, dropping idle ones first", () => {
    const { limit, advance } = limiter(1, 1000, 3);
    limit.take("busy");
    advance(1);
    limit.take("x");
    limit.take("y");
    advance(60_000); // everyone refilled: all idle
    limit.take("busy");
    limit.take("z"); // makes room by dropping the idle ones
    expect(limit.take("busy")).toMatchObject({ ok: false, scope: "caller" });
  });
});
