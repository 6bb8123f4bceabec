import { describe, expect, it } from "vitest";
import { sleep, withTimeout } from "./clock.js";
import { FakeClock } from "./testing/fake-clock.js";

describe("sleep and withTimeout", () => {
  it("sleep wakes early on abort and resolves at once when already aborted", async () => {
    const ac = new AbortController();
    const slept = sleep(60_000, ac.signal);
    ac.abort();
    await expect(slept).resolves.toBeUndefined();
    await expect(sleep(60_000, ac.signal)).resolves.toBeUndefined();
  });

  it("withTimeout gives the value, or undefined after the timeout", async () => {
    await expect(withTimeout(Promise.resolve(7), 1000)).resolves.toBe(7);
    await expect(withTimeout(new Promise<never>(() => undefined), 10)).resolves.toBeUndefined();
    await expect(withTimeout(Promise.reject(new Error("boom")), 1000)).rejects.toThrow("boom");
  });

  it("run on an injected clock: nothing happens until it moves", async () => {
    const clock = new FakeClock();
    let woke = false;
    void sleep(500, new AbortController().signal, clock).then(() => (woke = true));
    const late = withTimeout(new Promise<never>(() => undefined), 300, clock);
    await clock.advance(299);
    expect(woke).toBe(false);
    await clock.advance(1);
    await expect(late).resolves.toBeUndefined();
    await clock.advance(200);
    expect(woke).toBe(true);
    expect(clock.pending).toBe(0);
  });
});
