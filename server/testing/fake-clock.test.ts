import { describe, expect, it } from "vitest";
import { sleep, withTimeout } from "../shared/clock/clock.js";
import { FakeClock } from "./fake-clock.js";

describe("FakeClock", () => {
  it("runs timers in time order, repeating ones on their cadence, and skips cancelled ones", async () => {
    const clock = new FakeClock(0);
    const seen: string[] = [];
    clock.after(30, () => seen.push(`once@${clock.now()}`));
    const tick = clock.every(20, () => seen.push(`tick@${clock.now()}`));
    clock.after(10, () => seen.push("never")).cancel();
    await clock.advance(45);
    tick.cancel();
    await clock.advance(100);
    expect(seen).toEqual(["tick@20", "once@30", "tick@40"]);
    expect(clock.now()).toBe(145);
    expect(clock.pendingTimers).toBe(0);
  });

  it("lets code awaiting a sleep continue before later timers run", async () => {
    const clock = new FakeClock(0);
    const seen: string[] = [];
    void (async () => {
      await sleep(clock, 10);
      seen.push(`woke@${clock.now()}`);
      await sleep(clock, 10);
      seen.push(`woke again@${clock.now()}`);
    })();
    clock.after(15, () => seen.push("timer@15"));
    await clock.advance(25);
    expect(seen).toEqual(["woke@10", "timer@15", "woke again@20"]);
  });

  it("ends a sleep early when its signal aborts", async () => {
    const clock = new FakeClock(0);
    const stop = new AbortController();
    let woke = false;
    const sleeping = sleep(clock, 1_000, stop.signal).then(() => (woke = true));
    stop.abort();
    await sleeping;
    expect(woke).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe("withTimeout", () => {
  it("gives the value, or undefined once the time is up, and leaves no timer behind", async () => {
    const clock = new FakeClock(0);
    await expect(withTimeout(Promise.resolve(7), 1000, clock)).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error("boom")), 1000, clock)).rejects.toThrow(
      "boom",
    );
    const late = withTimeout(new Promise<never>(() => undefined), 300, clock);
    await clock.advance(300);
    await expect(late).resolves.toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });
});
