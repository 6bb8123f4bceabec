import { readFileSync, readdirSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../testing/poll.js";
import {
  freshDbPath,
  startStallwatch,
  type StallwatchProcess,
} from "../testing/spawn-stallwatch.js";

/** Pids of the direct children of `pid` (Linux: every thread's children file). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

/** Still running (a zombie waiting for its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

let demo: StallwatchProcess | undefined;
let started: number[] = [];
afterEach(() => {
  demo?.child.kill("SIGKILL");
  // Never leave one of ours behind, whatever the test saw.
  for (const pid of started.filter(alive)) process.kill(pid, "SIGKILL");
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
    started = childPids(demo.pid);
    // The gateway, two workers and at least one engine.
    expect(started.length).toBeGreaterThanOrEqual(4);
    expect(started.every(alive)).toBe(true);

    demo.child.kill("SIGKILL"); // no handler runs: only the kernel closing pipes tells them
    const left = await pollUntil(
      () => {
        const alives = started.filter(alive);
        return alives.length === 0 ? alives : undefined;
      },
      { timeoutMs: 20_000, what: "every child of the killed demo to exit" },
    );
    expect(left).toEqual([]);
  }, 90_000);
});
