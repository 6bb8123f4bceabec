import { describe, expect, it } from "vitest";
import { SharedCall } from "./shared-call.js";

describe("SharedCall", () => {
  it("shares one call while it runs and starts a fresh one after it settles", async () => {
    const shared = new SharedCall<number>();
    let starts = 0;
    let finish: (n: number) => void = () => undefined;
    const start = () => {
      starts += 1;
      return new Promise<number>((resolve) => (finish = resolve));
    };
    const a = shared.call(start);
    const b = shared.call(start);
    expect(starts).toBe(1);
    finish(42);
    await expect(Promise.all([a, b])).resolves.toEqual([42, 42]);
    const c = shared.call(start);
    expect(starts).toBe(2);
    finish(7);
    await expect(c).resolves.toBe(7);
  });

  it("turns a synchronous throw into a rejection and recovers after a failure", async () => {
    const shared = new SharedCall<number>();
    await expect(
      shared.call(() => {
        throw new Error("no dump");
      }),
    ).rejects.toThrow("no dump");
    await expect(shared.call(() => Promise.resolve(1))).resolves.toBe(1);
  });
});
