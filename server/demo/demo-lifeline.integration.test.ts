import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../testing/poll.js";
import { alive, childPids, describeAlive, identify, type Proc } from "../testing/procs.js";
import {
  freshDbPath,
  startStallwatch,
  type StallwatchProcess,
} from "../testing/spawn-stallwatch.js";

let demo: StallwatchProcess | undefined;
let started: Proc[] = [];
afterEach(() => {
  demo?.child.kill("SIGKILL");
  // Never leave one of ours behind, whatever the test saw.
  for (const proc of started.filter(alive)) process.kill(proc.pid, "SIGKILL");
  started = [];
});

describe("the demo's children", () => {
  it("stop by themselves when the demo is killed with SIGKILL", async () => {
    demo = await startStallwatch(
      [
        ...["demo", "--scenario", "calm", "--workers", "2"],
        ...["--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--db", freshDbPath()],
      ],
      { startTimeoutMs: 60_000 },
    );
    await demo.waitForLog((l) => l.msg === "demo ready", 60_000);
    started = childPids(demo.pid).map(identify);
    // The gateway, two workers and at least one engine.
    expect(started.length).toBeGreaterThanOrEqual(4);
    expect(started.every(alive)).toBe(true);

    demo.child.kill("SIGKILL"); // no handler runs: only the kernel closing pipes tells them
    const left = await pollUntil(
      () => {
        const left = started.filter(alive);
        return left.length === 0 ? left : undefined;
      },
      { timeoutMs: 20_000, what: "every child of the killed demo to exit" },
    ).catch((err: unknown) => {
      // Say which ones stayed, and doing what.
      throw new Error(
        `${(err as Error).message}; still running: ${describeAlive(started).join("; ")}`,
      );
    });
    expect(left).toEqual([]);
  }, 90_000);
});
