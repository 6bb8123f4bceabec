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

/** A process as /proc names it: its pid and start time, so a reused pid is not taken for it. */
interface Proc {
  pid: number;
  startedAt: string;
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // After "pid (comm) ": field 3 (state) onwards; comm may hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

function identify(pid: number): Proc {
  return { pid, startedAt: statFields(pid)?.[19] ?? "" };
}

/**
 * Still running: the same process (pid and start time; pids wrap at 32,768
 * here and a busy test run reuses them within seconds), and not a zombie
 * waiting for its reaper.
 */
function alive(proc: Proc): boolean {
  const fields = statFields(proc.pid);
  return fields !== undefined && fields[19] === proc.startedAt && fields[0] !== "Z";
}

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
      const left = started.filter(alive).map((p) => {
        let cmd: string;
        try {
          cmd = readFileSync(`/proc/${p.pid}/cmdline`, "utf8").replaceAll("\0", " ");
        } catch {
          cmd = "(gone while we looked)";
        }
        return `${p.pid} (${statFields(p.pid)?.[0] ?? "?"}) ${cmd.slice(0, 160)}`;
      });
      throw new Error(`${(err as Error).message}; still running: ${left.join("; ")}`);
    });
    expect(left).toEqual([]);
  }, 90_000);
});
