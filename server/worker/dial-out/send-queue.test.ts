import { describe, expect, it } from "vitest";
import { SendQueue } from "./send-queue.js";

const droppable = (s: string) => s.startsWith("status");

describe("SendQueue", () => {
  it("hands over everything queued, in order", async () => {
    const q = new SendQueue<string>(4, droppable);
    q.push("a");
    q.push("b");
    await expect(q.take(new AbortController().signal)).resolves.toEqual(["a", "b"]);
    expect(q.size).toBe(0);
  });

  it("wakes a waiting consumer on push", async () => {
    const q = new SendQueue<string>(4, droppable);
    const taken = q.take(new AbortController().signal);
    q.push("x");
    await expect(taken).resolves.toEqual(["x"]);
  });

  it("when full, drops the oldest droppable item first, then the oldest of any kind", () => {
    const q = new SendQueue<string>(3, droppable);
    q.push("cmd-1");
    q.push("status-1");
    q.push("cmd-2");
    expect(q.push("cmd-3")).toBe("status-1");
    expect(q.size).toBe(3);
    expect(q.push("cmd-4")).toBe("cmd-1");
    expect(q.size).toBe(3);
  });

  it("take resolves undefined on abort and on close; closed queues refuse pushes", async () => {
    const ac = new AbortController();
    const q = new SendQueue<string>(2, droppable);
    const waiting = q.take(ac.signal);
    ac.abort();
    await expect(waiting).resolves.toBeUndefined();

    const q2 = new SendQueue<string>(2, droppable);
    const waiting2 = q2.take(new AbortController().signal);
    q2.close();
    await expect(waiting2).resolves.toBeUndefined();
    expect(q2.push("late")).toBe("late");
  });
});
