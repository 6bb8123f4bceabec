import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, it } from "vitest";
import { pollUntil } from "../../testing/poll.js";
import { alive, describeAlive, identify, type Proc } from "../../testing/procs.js";

// Issue 19, item 1: workers left by a Ctrl-C ran on with ppid 1, their stdout
// pipe closed, and ignored SIGTERM: pino's exit flush retried EPIPE forever.
const DIST = fileURLToPath(new URL("../../../dist/server/", import.meta.url));

let orphans: Proc[] = [];
afterEach(() => {
  for (const proc of orphans.filter(alive)) process.kill(proc.pid, "SIGKILL");
  orphans = [];
});

/**
 * Starts `script` (an ES module, given DIST) under a parent that waits for
 * its first stdout line, says its pid and exits: the program is left an
 * orphan whose stdout pipe has no reader, like a demo child after the demo.
 */
async function orphan(script: string): Promise<Proc> {
  const parentScript = `
    import { spawn } from "node:child_process";
    const child = spawn(process.execPath, ["--input-type=module", "-e", process.argv[1]], {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, DIST: ${JSON.stringify(DIST)} },
    });
    child.stdout.once("data", () => {
      process.stdout.write(JSON.stringify({ pid: child.pid }) + "\\n");
      process.exit(0); // without reading on: the pipe's only reader goes
    });
    setTimeout(() => process.exit(1), 45000);
  `;
  const parent = spawn(
    process.execPath,
    ["--input-type=module", "-e", parentScript, "--", script],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: parent.stdout }).once("line", resolve);
    parent.once("exit", (code) => reject(new Error(`the parent exited (${code}) first`)));
  });
  const proc = identify((JSON.parse(line) as { pid: number }).pid);
  await new Promise((resolve) =>
    parent.exitCode === null ? parent.once("exit", resolve) : resolve(0),
  );
  orphans.push(proc);
  return proc;
}

async function expectGone(proc: Proc, what: string): Promise<void> {
  await pollUntil(() => (alive(proc) ? undefined : true), { timeoutMs: 20_000, what }).catch(
    (err: unknown) => {
      throw new Error(
        `${(err as Error).message}; still running: ${describeAlive([proc]).join("")}`,
      );
    },
  );
}

/** A real worker, no lifeline: only a signal can stop it. */
const WORKER = `
  process.argv = [process.argv[0], "stallwatch", "worker", "--listen", "127.0.0.1:0", "--id", "orphan", "--gateway", "127.0.0.1:9"];
  await import(process.env.DIST + "main.js");
`;

describe("a program whose parent is gone and whose stdout has no reader", () => {
  it("stops on one SIGTERM", async () => {
    const worker = await orphan(WORKER);
    process.kill(worker.pid, "SIGTERM");
    await expectGone(worker, "the orphaned worker to stop on SIGTERM");
  }, 60_000);

  it("stops on two SIGTERMs at once (a Ctrl-C and its forward)", async () => {
    const worker = await orphan(WORKER);
    process.kill(worker.pid, "SIGTERM");
    process.kill(worker.pid, "SIGTERM");
    await expectGone(worker, "the orphaned worker to stop on two SIGTERMs");
  }, 60_000);

  it("exits when it logs lines and exits in one tick (the exit flush meets EPIPE)", async () => {
    const program = await orphan(`
      const { createLogger } = await import(process.env.DIST + "shared/logging/logger.js");
      const log = createLogger("orphan", { format: "json" });
      log.info("up");
      process.on("SIGTERM", () => {
        for (let i = 0; i < 3; i++) log.warn({ i }, "stopping");
        process.exit(0);
      });
      setInterval(() => undefined, 1000);
    `);
    process.kill(program.pid, "SIGTERM");
    await expectGone(program, "the program to exit through its exit flush");
  }, 60_000);
});
