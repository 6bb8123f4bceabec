import { describe, expect, it } from "vitest";
import { LivenessTracker } from "./liveness.js";

describe("LivenessTracker", () => {
  it("starts pending and turns healthy on the first answer", () => {
    const t = new LivenessTracker(3, 0);
    expect(t.current.state).toBe("pending");
    expect(t.answered(1000)).toEqual({
      from: "pending",
      to: "healthy",
      atMs: 1000,
      reason: "first heartbeat answered",
    });
    expect(t.current.lastHeartbeatAtMs).toBe(1000);
  });

  it("goes late on one miss, unresponsive on the third, and healthy again on an answer", () => {
    const t = new LivenessTracker(3, 0);
    t.answered(1000);
    expect(t.missed(2000, "no answer within 1000 ms")?.to).toBe("late");
    expect(t.missed(3000, "no answer within 1000 ms")).toBeUndefined();
    expect(t.current.reason).toBe("2 missed heartbeats in a row (no answer within 1000 ms)");
    const change = t.missed(4000, "no answer within 1000 ms");
    expect(change).toMatchObject({ from: "late", to: "unresponsive", atMs: 4000 });
    expect(t.current.sinceMs).toBe(4000);
    expect(t.current.lastHeartbeatAtMs).toBe(1000);
    expect(t.answered(5000)).toMatchObject({
      from: "unresponsive",
      to: "healthy",
      reason: "heartbeats answered again",
    });
    expect(t.current.consecutiveMisses).toBe(0);
  });

  it("goes gone with the connection's reason and keeps since-when on repeats", () => {
    const t = new LivenessTracker(3, 0);
    t.answered(1000);
    expect(t.gone(2000, "connection refused")).toMatchObject({
      to: "gone",
      reason: "connection refused",
    });
    expect(t.gone(3000, "connection refused")).toBeUndefined();
    expect(t.current.sinceMs).toBe(2000);
  });

  it("turns a drained worker that disappears into exited, and ignores misses while draining", () => {
    const t = new LivenessTracker(3, 0);
    t.answered(1000);
    t.draining(1500, "drain requested");
    expect(t.missed(2000, "slow")).toBeUndefined();
    expect(t.answered(2500)).toBeUndefined();
    expect(t.current.state).toBe("draining");
    expect(t.gone(3000, "connection refused")).toMatchObject({ from: "draining", to: "exited" });
  });
});
