import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { pythonWorkerLaunch } from "../demo/python-worker.js";
import type { LogLine } from "./spawn-stallwatch.js";

/** A running Python reference worker (`python3 -m stallwatch_worker`) and its log lines. */
export interface PythonWorkerProcess {
  child: ChildProcess;
  /** Its Manage/Execute address, HOST:PORT, from the `listening` line. */
  address: string;
  logs: LogLine[];
  stderr: string[];
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code or signal. */
  stop(graceMs?: number): Promise<number | string>;
}

const running = new Set<ChildProcess>();

/**
 * Starts the Python worker on 127.0.0.1:0 with `args` (e.g. `--id`, `--gateway`)
 * and waits (up to `startTimeoutMs`) for its `listening` line.
 */
export async function startPythonWorker(
  args: string[],
  { startTimeoutMs = 30_000 } = {},
): Promise<PythonWorkerProcess> {
  const launch = await pythonWorkerLaunch(["--listen", "127.0.0.1:0", ...args]);
  if (!launch.ok) throw new Error(`the Python worker cannot run here: ${launch.problem}`);
  const child = spawn(launch.command, launch.args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...launch.env },
  });
  running.add(child);
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? "unknown");
    }),
  );
  const listening = new Promise<LogLine>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no listening line within ${startTimeoutMs} ms: ${stderr.join("")}`));
    }, startTimeoutMs);
    createInterface({ input: child.stdout }).on("line", (line) => {
      const entry = JSON.parse(line) as LogLine;
      logs.push(entry);
      if (entry.msg === "listening") {
        clearTimeout(timer);
        resolve(entry);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before listening: ${stderr.join("")}`));
    });
  });
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  try {
    const line = await listening;
    return { child, address: String(line.address), logs, stderr, exited, stop };
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
}

/** Kills every Python worker this module started that still runs (afterAll safety net). */
export function killPythonWorkers(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
}
