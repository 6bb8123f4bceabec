import { describe, expect, it } from "vitest";
import { kindConflict, WorkerOwnership, type StreamHolder } from "./ownership.js";

function holder(peer: string, alive: boolean, kind: StreamHolder["kind"] = "agent") {
  const evicted: string[] = [];
  const h: StreamHolder = {
    kind,
    peer,
    proveAlive: () => Promise.resolve(alive),
    evict: (reason) => evicted.push(reason),
  };
  return { h, evicted };
}

describe("WorkerOwnership", () => {
  it("grants a free id and refuses it to a second stream while the first is alive", async () => {
    const own = new WorkerOwnership();
    const real = holder("10.0.0.1:5", true);
    expect(await own.claim("w1", real.h, undefined)).toEqual({ granted: true });
    const impostor = holder("10.0.0.9:7", false);
    const second = await own.claim("w1", impostor.h, { kind: "agent", address: "x" });
    expect(second.granted).toBe(false);
    expect(!second.granted && second.reason).toMatch(/live stream from 10\.0\.0\.1:5/);
    expect(real.evicted).toEqual([]);
    expect(own.holder("w1")).toBe(real.h);
  });

  it("hands the id over when the holder cannot prove it is alive, evicting it", async () => {
    const own = new WorkerOwnership();
    const old = holder("10.0.0.1:5", false);
    await own.claim("w1", old.h, undefined);
    const back = holder("10.0.0.1:6", true);
    const result = await own.claim("w1", back.h, { kind: "agent", address: "x" });
    expect(result).toMatchObject({ granted: true, tookOverFrom: old.h });
    expect(old.evicted[0]).toMatch(/did not answer a ping/);
    expect(own.release("w1", old.h)).toBe(false);
    expect(own.release("w1", back.h)).toBe(true);
  });

  it("speaks for Beam streams too: a live Beam holder keeps its id, in Beam's words", async () => {
    const own = new WorkerOwnership();
    const harness = holder("10.0.0.2:5", true, "beam");
    await own.claim("b1", harness.h, undefined);
    const impostor = await own.claim("b1", holder("10.0.0.9:1", true, "beam").h, {
      kind: "beam",
      address: "10.0.0.2:5",
    });
    expect(impostor).toMatchObject({ granted: false, holder: harness.h });
    expect(impostor.granted || impostor.reason).toMatch(/bound to a live Beam status stream/);
  });

  it("refuses a racing claim while one is being decided", async () => {
    const own = new WorkerOwnership();
    let answer: (alive: boolean) => void = () => undefined;
    const slow: StreamHolder = {
      kind: "agent",
      peer: "a",
      proveAlive: () => new Promise((r) => (answer = r)),
      evict: () => undefined,
    };
    await own.claim("w1", slow, undefined);
    const first = own.claim("w1", holder("b", true).h, undefined);
    const second = await own.claim("w1", holder("c", true).h, undefined);
    expect(second.granted).toBe(false);
    answer(true);
    expect((await first).granted).toBe(false);
  });

  it("never lets kinds overwrite each other, except a static target joined at its address", () => {
    expect(kindConflict({ kind: "beam", address: "p" }, "agent", "")).toMatch(/Beam harness/);
    expect(kindConflict({ kind: "agent", address: "p" }, "beam", "")).toMatch(/agent/);
    expect(kindConflict({ kind: "spark", address: "127.0.0.1:7" }, "agent", "127.0.0.1:8")).toMatch(
      /static Spark worker at 127\.0\.0\.1:7; announce that Manage address/,
    );
    expect(kindConflict({ kind: "spark", address: "127.0.0.1:7" }, "agent", "127.0.0.1:7")).toBe(
      undefined,
    );
    expect(kindConflict(undefined, "agent", "")).toBe(undefined);
    // A Beam harness has no Manage address to announce: a static worker's id is never its.
    expect(kindConflict({ kind: "spark", address: "127.0.0.1:7" }, "beam", "")).toMatch(
      /static Spark worker at 127\.0\.0\.1:7; a Beam harness cannot take it/,
    );
  });
});
