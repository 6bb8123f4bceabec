import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import type { AgentRefusal } from "./agent-admission.js";
import { AdmissionPacer } from "./admission-pacer.js";

const loopTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("admission work per event-loop turn", () => {
  it("lets a bounded batch go on per turn, in order, with I/O turns in between", async () => {
    const pacer = new AdmissionPacer(10, 1_000);
    const went: number[] = [];
    const all = Array.from({ length: 25 }, (_, i) => pacer.turn().then(() => went.push(i)));
    expect(pacer.queued).toBe(25);
    await loopTurn();
    expect(went).toEqual(Array.from({ length: 10 }, (_, i) => i));
    await loopTurn();
    expect(went).toHaveLength(20);
    await Promise.all(all);
    expect(went).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(pacer.queued).toBe(0);
  });

  it("refuses beyond the streams that may wait, with ResourceExhausted", async () => {
    const pacer = new AdmissionPacer(1, 2);
    const first = [pacer.turn(), pacer.turn()];
    const err = (await pacer.turn().catch((e: unknown) => e)) as AgentRefusal;
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.reason).toBe("busy");
    await Promise.all(first);
  });
});
