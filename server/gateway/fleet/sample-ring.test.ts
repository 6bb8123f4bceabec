import { describe, expect, it } from "vitest";
import { percentile, SampleRing } from "./sample-ring.js";

describe("SampleRing", () => {
  it("keeps at most its capacity, overwriting the oldest", () => {
    const ring = new SampleRing(3);
    for (let i = 1; i <= 5; i++) ring.push(i * 1000, i);
    expect(ring.size).toBe(3);
    expect(ring.lastValues(10)).toEqual([3, 4, 5]);
    expect(ring.lastValues(2)).toEqual([4, 5]);
    expect(ring.last()).toBe(5);
  });

  it("returns samples since a time, oldest first", () => {
    const ring = new SampleRing(4);
    for (let i = 1; i <= 6; i++) ring.push(i * 1000, i * 10);
    expect(ring.since(4000)).toEqual({ times: [4000, 5000, 6000], values: [40, 50, 60] });
  });

  it("is empty at first", () => {
    const ring = new SampleRing(2);
    expect(ring.last()).toBeUndefined();
    expect(ring.lastValues(5)).toEqual([]);
  });
});

describe("percentile", () => {
  it("uses nearest rank", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });
});
