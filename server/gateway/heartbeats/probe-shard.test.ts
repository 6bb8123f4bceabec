import { describe, expect, it } from "vitest";
import { FakeClock } from "../../testing/fake-clock.js";
import { ProbeShard, type BeatClient, type BeatRecord } from "./probe-shard.js";
import { fakeWorker, type Reply } from "./testing/fake-beat-client.js";

function shard(clock: FakeClock, client: BeatClient, maxBackoffMs = 8000) {
  const records: BeatRecord[] = [];
  const s = new ProbeShard({
    intervalMs: 1000,
    deadlineMs: 300,
    maxBackoffMs,
    tickMs: 5,
    clock,
    connect: () => client,
    onRecord: (r) => records.push(r),
  });
  return { shard: s, records };
}

describe("ProbeShard with a fake clock", () => {
  it("beats once per interval, at most one call in flight, and decodes an unchanged answer once", async () => {
    const clock = new FakeClock(0);
    const worker = fakeWorker(clock, [{ after: 2, metrics: { uptime_ms: "1" } }]);
    const { shard: s, records } = shard(clock, worker.client);
    s.add(1, "127.0.0.1", 7071, 0);
    await clock.advance(3_100);
    // Due at 0, started at the first tick; then one interval after each due time.
    expect(worker.calls).toEqual([5, 1000, 2000, 3000]);
    expect(records.map((r) => r.outcome)).toEqual(["ok", "ok", "ok", "ok"]);
    // Identical bytes: the metrics travel once, then "same as before".
    expect(records.map((r) => r.metrics)).toEqual([
      { uptime_ms: "1" },
      undefined,
      undefined,
      undefined,
    ]);
    s.stop();
  });

  it("expires a call at its deadline, within one tick, and keeps the cadence", async () => {
    const clock = new FakeClock(0);
    const worker = fakeWorker(clock, ["never"]);
    const { shard: s, records } = shard(clock, worker.client);
    s.add(1, "127.0.0.1", 7071, 0);
    await clock.advance(2_400);
    expect(records.map((r) => [r.outcome, r.atMs])).toEqual([
      ["timeout", 305],
      ["timeout", 1300],
      ["timeout", 2300],
    ]);
    // A slow worker delays only itself: the next beat is one interval after the last was due.
    expect(worker.calls).toEqual([5, 1000, 2000]);
    s.stop();
  });

  it("backs off a gone worker, doubling up to the cap with jitter, and recovers at once", async () => {
    const clock = new FakeClock(0);
    const replies: Reply[] = Array.from({ length: 6 }, () => ({ after: 1, fail: "connection" }));
    replies.push({ after: 1, metrics: {} });
    const worker = fakeWorker(clock, replies);
    const { shard: s, records } = shard(clock, worker.client, 4000);
    s.add(1, "127.0.0.1", 7071, 0);
    await clock.advance(40_000);
    const gaps = worker.calls.slice(1, 7).map((t, i) => t - (worker.calls[i] ?? 0));
    // 1 s, 2 s, 4 s, 4 s, 4 s, 4 s, each ±20% (and a tick).
    const nominal = [1000, 2000, 4000, 4000, 4000, 4000];
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual((nominal[i] ?? 0) * 0.8);
      expect(gap).toBeLessThanOrEqual((nominal[i] ?? 0) * 1.2 + 10);
    });
    expect(worker.closes()).toBe(6); // a refused connection is closed and dialled again
    const firstOk = records.findIndex((r) => r.outcome === "ok");
    expect(firstOk).toBe(6);
    // Healthy again: one beat per interval, back in its own phase (it was added due at 0).
    const after = worker.calls.slice(7, 10);
    const firstGap = (after[0] ?? 0) - (worker.calls[6] ?? 0);
    expect(firstGap).toBeGreaterThanOrEqual(1000);
    expect(firstGap).toBeLessThan(2000);
    expect(after.map((t) => t % 1000)).toEqual([0, 0, 0]);
    expect(after.slice(1).map((t, i) => t - (after[i] ?? 0))).toEqual([1000, 1000]);
    s.stop();
  });

  it("beats now on probeNow, unless a call is in flight", async () => {
    const clock = new FakeClock(0);
    const worker = fakeWorker(clock, [{ after: 50, metrics: {} }]);
    const { shard: s } = shard(clock, worker.client);
    s.add(1, "127.0.0.1", 7071, 500);
    await clock.advance(100);
    s.probeNow(1);
    await clock.advance(10);
    expect(worker.calls).toEqual([105]);
    s.probeNow(1); // in flight: ignored
    await clock.advance(100);
    expect(worker.calls).toEqual([105]);
    s.stop();
  });

  it("stops calling a removed target, and its late answer is dropped", async () => {
    const clock = new FakeClock(0);
    const worker = fakeWorker(clock, [{ after: 200, metrics: {} }]);
    const { shard: s, records } = shard(clock, worker.client);
    s.add(1, "127.0.0.1", 7071, 0);
    await clock.advance(50);
    s.remove(1);
    await clock.advance(5_000);
    expect(worker.calls).toHaveLength(1);
    expect(records).toEqual([]);
    expect(clock.pendingTimers).toBe(0); // no ticker left behind
  });

  it("returns beats to each worker's own phase after they were knocked into step", async () => {
    const clock = new FakeClock(0);
    const workers = Array.from({ length: 10 }, () =>
      fakeWorker(clock, [{ after: 1, metrics: {} }]),
    );
    let next = 0;
    const s = new ProbeShard({
      intervalMs: 1000,
      deadlineMs: 300,
      maxBackoffMs: 8000,
      tickMs: 5,
      clock,
      connect: () => (workers[next++] as (typeof workers)[number]).client,
      onRecord: () => undefined,
    });
    workers.forEach((_, i) => s.add(i, "127.0.0.1", 7000 + i, i * 100));
    await clock.advance(2_050);
    // A hand-over (or anything that makes them late together) beats them all at once...
    workers.forEach((_, i) => s.probeNow(i));
    await clock.advance(3_000);
    const after = workers.map((w) => w.calls.filter((t) => t > 2_050));
    expect(after.map((calls) => calls[0])).toEqual(Array(10).fill(2_055));
    // ...and then each is back in its own phase, not one interval after the shared beat.
    after.forEach((calls, i) => {
      expect(calls.slice(1, 3).map((t) => t % 1000)).toEqual([i * 100, i * 100]);
      expect((calls[1] ?? 0) - (calls[0] ?? 0)).toBeGreaterThanOrEqual(1000);
    });
    s.stop();
  });

  it("keeps one beat per interval when calls time out at deadline = interval, and never bursts to catch up", async () => {
    const clock = new FakeClock(0);
    const blackholed = fakeWorker(clock, ["never"]);
    const slow = fakeWorker(clock, [
      { after: 3_500, metrics: {} },
      { after: 1, metrics: {} },
    ]);
    const clients = [blackholed.client, slow.client];
    const s = new ProbeShard({
      intervalMs: 1000,
      deadlineMs: 1000,
      maxBackoffMs: 8000,
      tickMs: 5,
      clock,
      connect: () => clients.shift() as BeatClient,
      onRecord: () => undefined,
    });
    s.add(1, "127.0.0.1", 7071, 0);
    await clock.advance(5_100);
    // Each timeout ends at the next due time: the next beat goes out in that same tick.
    expect(blackholed.calls).toEqual([5, 1005, 2005, 3005, 4005, 5005]);
    s.stop();

    const s2 = new ProbeShard({
      intervalMs: 1000,
      deadlineMs: 10_000,
      maxBackoffMs: 8000,
      tickMs: 5,
      clock,
      connect: () => slow.client,
      onRecord: () => undefined,
    });
    s2.add(1, "127.0.0.1", 7072, 0);
    await clock.advance(6_000);
    const from = 5_100;
    // An answer 3.5 intervals late (at +3,505): one beat at the next tick, then
    // back on its phase (+k × 1,000), with no backlog of missed beats.
    expect(slow.calls.map((t) => t - from)).toEqual([5, 3_510, 4_000, 5_000, 6_000]);
    s2.stop();
  });
});
