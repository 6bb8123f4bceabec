import { describe, expect, it } from "vitest";
import { BoundedQueue } from "./bounded-queue.js";
import { systemClock } from "../clock/clock.js";

describe("BoundedQueue", () => {
  it("hands over queued items in order", async () => {
    const q = new BoundedQueue<number>(10, systemClock);
    q.push(1);
    q.push(2);
    expect(await q.takeAll(new AbortController().signal, 1000)).toEqual([1, 2]);
  });

  it("wakes a waiting consumer on push", async () => {
    const q = new BoundedQueue<number>(10, systemClock);
    const taken = q.takeAll(new AbortController().signal, 10_000);
    q.push(7);
    expect(await taken).toEqual([7]);
  });

  it("drops the backlog and flags overflow when full", async () => {
    const q = new BoundedQueue<number>(2, systemClock);
    q.push(1);
    q.push(2);
    q.push(3);
    expect(q.overflowed).toBe(true);
    expect(await q.takeAll(new AbortController().signal, 10)).toEqual([]);
  });

  it("returns empty on timeout and on abort", async () => {
    const q = new BoundedQueue<number>(2, systemClock);
    expect(await q.takeAll(new AbortController().signal, 5)).toEqual([]);
    const ac = new AbortController();
    const taken = q.takeAll(ac.signal, 10_000);
    ac.abort();
    expect(await taken).toBeUndefined();
  });
});
