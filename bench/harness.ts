import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../server/main.js", import.meta.url));

/** Starts `stallwatch <args>` from dist and resolves with its listening line. */
export function startProcess(
  args: string[],
  timeoutMs = 15_000,
): Promise<{ child: ChildProcess; line: Record<string, unknown> }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, LOG_LEVEL: "info" },
  });
  children.add(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0] ?? ""} did not start`)), timeoutMs);
    createInterface({ input: child.stdout }).on("line", (text) => {
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        if (line.msg === "listening") {
          clearTimeout(timer);
          resolve({ child, line });
        }
      } catch {
        // not JSON
      }
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}`)));
  });
}

const children = new Set<ChildProcess>();
export function killAll(): void {
  for (const c of children) c.kill("SIGKILL");
}
process.on("exit", killAll);

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0
  );
}

export function table(rows: Record<string, string | number>[]): void {
  console.table(rows);
}
