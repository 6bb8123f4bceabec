import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { pollUntil } from "../testing/poll.js";
import { alive, describeAlive, descendants, identify, type Proc } from "../testing/procs.js";
import { freshDbPath, type LogLine } from "../testing/spawn-stallwatch.js";

const SUPERVISOR = new URL("../../scripts/demo-supervisor.js", import.meta.url).href;
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let leader: ChildProcess | undefined;
let started: Proc[] = [];
afterEach(() => {
  // Never leave one of ours behind, whatever the test saw.
  for (const proc of started.filter(alive)) process.kill(proc.pid, "SIGKILL");
  if (leader?.pid && leader.exitCode === null) leader.kill("SIGKILL");
  started = [];
});

/** Engines whose sessions hang in the incident: user code that never yields, hung Beam bundles. */
const HANGING = ["engine-hang", "engine-demo-beam-java", "engine-demo-beam-go"];

describe("Ctrl-C on npm start (issue 19, item 1)", () => {
  it("SIGINT to the whole process group, sessions hanging, leaves no process behind", async () => {
    // What `npm start` runs after its build, as a terminal runs it: the
    // leader of a new session and process group (setsid), the demo its child.
    const group = spawn(
      process.execPath,
      [
        "-e",
        `import(${JSON.stringify(SUPERVISOR)}).then((m) => m.superviseDemo(process.argv.slice(1)))`,
        "--",
        ...["--scenario", "incident", "--workers", "5", "--log-format", "json"],
        ...["--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--db", freshDbPath()],
      ],
      { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    leader = group;
    const pgid = group.pid ?? 0;
    const logs: LogLine[] = [];
    createInterface({ input: group.stdout }).on("line", (line) => {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // The supervisor's own "[stallwatch] starting" line.
      }
    });
    const stderr: string[] = [];
    group.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));

    // Up, and every hanging engine reports a session in flight.
    await pollUntil(
      () => {
        const hanging = new Set(
          logs
            .filter((l) => l.msg === "engine report" && Number(l.inFlight) > 0)
            .map((l) => String(l.child)),
        );
        return logs.some((l) => l.msg === "demo ready") && HANGING.every((e) => hanging.has(e))
          ? true
          : undefined;
      },
      { timeoutMs: 90_000, what: "the demo ready with its hung sessions in flight" },
    ).catch((err: unknown) => {
      // Say what the demo said last (a child slow to start on a loaded machine, a fault).
      const last = logs.slice(-5).map((l) => `${String(l.child ?? l.name)}: ${String(l.msg)}`);
      throw new Error(
        `${(err as Error).message}; last lines: ${last.join(" | ")}; stderr: ${stderr.join("").slice(-500)}`,
      );
    });
    started = [identify(pgid), ...descendants(pgid)];
    // The supervisor, the demo, the gateway, 7 workers and the engines.
    expect(started.length).toBeGreaterThanOrEqual(12);

    process.kill(-pgid, "SIGINT"); // what the terminal does on Ctrl-C
    await pollUntil(() => (started.some(alive) ? undefined : true), {
      timeoutMs: 30_000,
      what: "every process of the group to exit",
    }).catch((err: unknown) => {
      throw new Error(
        `${(err as Error).message}; still running: ${describeAlive(started).join("; ")}`,
      );
    });
    // One Ctrl-C is one request: nobody took the group's SIGINT and its forwarding for two.
    expect(logs.filter((l) => l.msg === "second signal, exiting now")).toEqual([]);
    expect(logs.some((l) => l.name === "demo" && l.msg === "stopped")).toBe(true);
  }, 150_000);
});
