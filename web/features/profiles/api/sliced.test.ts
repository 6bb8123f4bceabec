import { describe, expect, it } from "vitest";
import { runNow, runSliced, type Steps } from "./sliced";

/** Three pauses, then the sum; `log` says which parts ran. */
function* sum(log: string[]): Steps<number> {
  let total = 0;
  for (let i = 1; i <= 4; i++) {
    log.push(`part ${i}`);
    total += i;
    if (i < 4) yield;
  }
  return total;
}

describe("runNow", () => {
  it("runs every step at once and returns the result", () => {
    const log: string[] = [];
    expect(runNow(sum(log))).toBe(10);
    expect(log).toHaveLength(4);
  });
});

describe("runSliced", () => {
  it("starts in a later task, not in the caller's", async () => {
    const log: string[] = [];
    const done = runSliced(sum(log));
    expect(log).toEqual([]);
    expect(await done).toBe(10);
    expect(log).toHaveLength(4);
  });

  it("gives way after every step with no budget, and only at the start with a large one", async () => {
    let yields = 0;
    const yieldTo = () => {
      yields += 1;
      return Promise.resolve();
    };
    expect(await runSliced(sum([]), { budgetMs: 0, yieldTo })).toBe(10);
    expect(yields).toBe(4);
    yields = 0;
    expect(await runSliced(sum([]), { budgetMs: 60_000, yieldTo })).toBe(10);
    expect(yields).toBe(1);
  });

  it("stops at the next pause once aborted, with the signal's reason", async () => {
    const log: string[] = [];
    const abort = new AbortController();
    const yieldTo = () => {
      // Aborted while the second slice waits for its task.
      if (log.length === 1) abort.abort(new Error("superseded"));
      return Promise.resolve();
    };
    await expect(
      runSliced(sum(log), { budgetMs: 0, yieldTo, signal: abort.signal }),
    ).rejects.toThrow("superseded");
    expect(log).toEqual(["part 1"]);
  });

  it("gives way through the platform's next task by default", async () => {
    // No yieldTo: scheduler.yield or a MessageChannel message; it must resolve.
    expect(await runSliced(sum([]), { budgetMs: 0 })).toBe(10);
  });
});
