import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * The repository's `bin/stallwatch.js`, found by walking up from this file:
 * it is two levels up in the source tree (server/testing/) and three once
 * compiled for a bench (dist/server/testing/).
 */
function findCli(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here, i = 0; i < 5; dir = dirname(dir), i++) {
    const candidate = join(dir, "bin", "stallwatch.js");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`bin/stallwatch.js not found in any folder above ${here}`);
}

const CLI = findCli();

/** One JSON log line as pino writes it. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/**
 * A `stallwatch` process under test, started from the compiled CLI. Its JSON
 * log lines are kept so tests can wait for events instead of sleeping.
 */
export interface StallwatchProcess {
  child: ChildProcess;
  pid: number;
  logs: LogLine[];
  stderr: string[];
  /** The first `listening` log line. */
  listening: LogLine;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  /** Waits for a log line matching `predicate`, failing after `timeoutMs`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when gone. */
  stop(graceMs?: number): Promise<number | string>;
}

const running = new Set<ChildProcess>();

/** A database path in a new temporary directory. */
export function freshDbPath(): string {
  return join(mkdtempSync(join(tmpdir(), "stallwatch-test-")), "stallwatch.db");
}

/** How a process is started, whatever its arguments. */
export interface StartOptions {
  /** How long to wait for the `listening` line (default 15 s). */
  startTimeoutMs?: number;
  /** Added to the environment, after the fresh STALLWATCH_DB. */
  env?: Record<string, string>;
  /** The CLI entry point (default: the repository's bin/stallwatch.js). */
  cli?: string;
}

/** Starts `stallwatch <args>` and waits for its `listening` line. */
export async function startStallwatch(
  args: string[],
  { startTimeoutMs = 15_000, env = {}, cli = CLI }: StartOptions = {},
): Promise<StallwatchProcess> {
  const child = spawn(process.execPath, [cli, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    // Each process gets its own database unless the test says otherwise.
    env: { ...process.env, LOG_LEVEL: "debug", STALLWATCH_DB: freshDbPath(), ...env },
  });
  running.add(child);
  const logs: LogLine[] = [];
  let exitCode: number | string | undefined;
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(child);
      // Set before waking waiters, so a process that exits before its
      // `listening` line fails the wait at once, with its stderr.
      exitCode = code ?? signal ?? "unknown";
      resolve(exitCode);
      for (const wake of waiters) wake();
    });
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ msg: line });
    }
    for (const wake of waiters) wake();
  });
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));

  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = 10_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = logs.find(predicate);
        if (found) {
          cleanup();
          resolve(found);
        } else if (exitCode !== undefined) {
          cleanup();
          reject(
            new Error(
              `process exited (${exitCode}) before the log line appeared; stderr: ${stderr.join("")}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `no matching log line within ${timeoutMs} ms; last lines: ${JSON.stringify(logs.slice(-5))}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const stop = async (graceMs = 5000) => {
    if (exitCode !== undefined) return exitCode;
    child.kill("SIGCONT"); // a frozen process cannot handle SIGTERM
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  let listening: LogLine;
  try {
    listening = await waitForLog((l) => l.msg === "listening", startTimeoutMs);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  if (child.pid === undefined) throw new Error("process has no pid");
  return { child, pid: child.pid, logs, stderr, listening, exited, waitForLog, stop };
}

/** Kills every process this module started that is still running (afterAll safety net). */
export function killAllStarted(): void {
  for (const child of running) {
    child.kill("SIGCONT");
    child.kill("SIGKILL");
  }
  running.clear();
}

/** Runs `stallwatch <args>` to completion (for --help and usage errors). */
export function runStallwatch(
  args: string[],
  timeoutMs = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, STALLWATCH_DB: freshDbPath() },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`stallwatch ${args.join(" ")} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
