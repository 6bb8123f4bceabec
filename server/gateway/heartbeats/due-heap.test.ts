import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DueHeap } from "./due-heap.js";

describe("DueHeap", () => {
  it("pops in due order whatever the push order", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 })), (dues) => {
        const heap = new DueHeap<number>();
        dues.forEach((d, i) => heap.push(d, i));
        const out: number[] = [];
        for (let p = heap.pop(); p; p = heap.pop()) out.push(p.dueAt);
        expect(out).toEqual([...dues].sort((a, b) => a - b));
      }),
    );
  });

  it("reports the earliest due time, Infinity when empty", () => {
    const heap = new DueHeap<string>();
    expect(heap.peekDue()).toBe(Infinity);
    heap.push(5, "b");
    heap.push(2, "a");
    expect(heap.peekDue()).toBe(2);
    expect(heap.pop()).toEqual({ dueAt: 2, item: "a" });
    expect(heap.size).toBe(1);
  });
});
