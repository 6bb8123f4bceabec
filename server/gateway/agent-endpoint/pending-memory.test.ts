import { EventEmitter } from "node:events";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AgentRefusal } from "./agent-admission.js";
import { chargeArrivals, PendingMemory } from "./pending-memory.js";

const KIB = 1024;

describe("memory held by agent streams not admitted yet", () => {
  it("charges a fixed cost per stream plus what it sent, and gives it back once", () => {
    const memory = new PendingMemory(100 * KIB, 10 * KIB);
    const a = memory.enter();
    expect(a.charge(30 * KIB)).toBe(true);
    expect(memory.heldBytes).toBe(40 * KIB);
    a.release();
    a.release();
    expect(memory.heldBytes).toBe(0);
  });

  it("refuses the stream whose bytes would go over, across streams, with ResourceExhausted", () => {
    const memory = new PendingMemory(100 * KIB, 10 * KIB);
    const a = memory.enter();
    const b = memory.enter();
    expect(a.charge(50 * KIB)).toBe(true);
    // b would take the total to 110 KiB: refused, and its share freed at once.
    expect(b.charge(40 * KIB)).toBe(false);
    expect(memory.heldBytes).toBe(60 * KIB);
    const refusal = memory.refusal();
    expect(refusal).toBeInstanceOf(AgentRefusal);
    expect(refusal.code).toBe(Code.ResourceExhausted);
    expect(refusal.reason).toBe("memory");
    expect(refusal.rawMessage).toMatch(/--agent-pending-memory-mib/);
  });

  it("refuses a new stream at once while the budget is full", () => {
    const memory = new PendingMemory(25 * KIB, 10 * KIB);
    memory.enter();
    memory.enter();
    expect(() => memory.enter()).toThrow(AgentRefusal);
  });

  it("counts what arrives on a stream until told to stop, and says once when it is over", () => {
    const memory = new PendingMemory(100 * KIB, 0);
    const stream = new EventEmitter();
    let over = 0;
    const pending = memory.enter();
    const stop = chargeArrivals(stream, pending, () => (over += 1));
    stream.emit("data", Buffer.alloc(60 * KIB));
    expect(memory.heldBytes).toBe(60 * KIB);
    stream.emit("data", Buffer.alloc(60 * KIB));
    stream.emit("data", Buffer.alloc(60 * KIB));
    expect(over).toBe(1);
    expect(memory.heldBytes).toBe(0);
    stop();
    const next = memory.enter();
    const stop2 = chargeArrivals(stream, next, () => (over += 1));
    stop2();
    stream.emit("data", Buffer.alloc(10 * KIB));
    expect(memory.heldBytes).toBe(0);
  });
});
