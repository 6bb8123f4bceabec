import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { LIFELINE_ENV } from "../shared/cli/parent-lifeline.js";
import { logOutput, type Logger } from "../shared/logging/logger.js";

const CLI = fileURLToPath(new URL("../main.js", import.meta.url));

/** A `stallwatch` child of the demo, with its `listening` line once it is up. */
export interface DemoChild {
  name: string;
  child: ChildProcess;
  listening: Promise<Record<string, unknown>>;
  exited: Promise<number | string>;
}

/** Starts `stallwatch <args>` as a child: `startProgram` with this Node and our CLI. */
export function startChild(
  name: string,
  args: string[],
  log: Logger,
  // A bound, not a target: a loaded 2-core machine (npm test beside a build) took over 20 s.
  timeoutMs = 45_000,
  /** Added to the environment: how secrets reach a child without showing in `ps`. */
  env: Record<string, string> = {},
): DemoChild {
  return startProgram(name, process.execPath, [CLI, ...args], log, timeoutMs, env);
}

/**
 * Starts `command <args>` as a child (ours, or the Python worker, which keeps
 * the same conventions). It has no terminal, so it logs JSON;
 * its lines are relayed through our log output tagged with `child` (so one
 * stream shows the whole demo, in our format and to our log file), and
 * the first `listening` line resolves `listening` (rejects if it exits first
 * or takes longer than `timeoutMs`).
 */
export function startProgram(
  name: string,
  command: string,
  args: string[],
  log: Logger,
  // A bound, not a target: a loaded 2-core machine (npm test beside a build) took over 20 s.
  timeoutMs = 45_000,
  env: Record<string, string> = {},
): DemoChild {
  // stdin is the child's lifeline: it stops when the pipe closes, so the demo
  // never leaves orphans behind, even when it is killed with SIGKILL.
  // Its own process group: a terminal's Ctrl-C reaches the demo alone, which
  // stops each child once, engines first (DemoChildren.stopAll), instead of
  // every child getting the group's SIGINT and then the demo's SIGTERM.
  const child = spawn(command, args, {
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env, [LIFELINE_ENV]: "stdin" },
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    // A program that could not be started at all emits "error" and no "exit".
    child.once("error", (err) => {
      log.error({ child: name, err }, "child could not be started");
      resolve(`not started: ${err.message}`);
    });
  });
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const out = logOutput();
    createInterface({ input: child.stdout }).on("line", (line) => {
      let entry: Record<string, unknown> | undefined;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = undefined;
      }
      out.relay(
        entry ? { child: name, ...entry } : { child: name, level: 30, msg: line.slice(0, 2000) },
      );
      if (entry?.msg === "listening") {
        clearTimeout(timer);
        resolve(entry);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was listening`));
    });
  });
  // Unobserved rejections are expected when a child is stopped during start-up.
  listening.catch(() => undefined);
  child.stderr.on("data", (chunk: Buffer) =>
    log.warn({ child: name, stderr: chunk.toString().trim() }, "child stderr"),
  );
  return { name, child, listening, exited };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
export async function stopChild(c: DemoChild, graceMs = 4000): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  c.child.kill("SIGCONT");
  c.child.kill("SIGTERM");
  const timer = setTimeout(() => c.child.kill("SIGKILL"), graceMs);
  await c.exited;
  clearTimeout(timer);
}
