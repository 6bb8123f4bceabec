import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Debian's interpreter, the one with python3-grpcio and python3-protobuf; the
 * `python3` first on PATH may be another (STALLWATCH_PYTHON overrides).
 */
export const PYTHON = process.env.STALLWATCH_PYTHON ?? "/usr/bin/python3";

/**
 * The repository's `python/` folder (the worker, the agent and their stubs):
 * found upwards from this file, which runs from `server/demo/` in tests and
 * from `dist/server/demo/` in the built product.
 */
export function pythonDir(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "python");
    if (existsSync(join(candidate, "stallwatch_worker", "__main__.py"))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** How to start the Python reference worker, or why it cannot start here. */
export type PythonWorkerLaunch =
  | { ok: true; command: string; args: string[]; env: Record<string, string> }
  | { ok: false; problem: string };

/**
 * `python3 -m stallwatch_worker <args>` with `python/` on PYTHONPATH, once
 * the interpreter is known to import grpcio and protobuf (checked here, with
 * a deadline, so a missing Python is a sentence in the banner, not a crash).
 */
export async function pythonWorkerLaunch(
  args: string[],
  python = PYTHON,
): Promise<PythonWorkerLaunch> {
  const dir = pythonDir();
  if (!dir) return { ok: false, problem: "the python/ folder is not beside this build" };
  const problem = await new Promise<string | undefined>((resolve) => {
    execFile(python, ["-c", "import grpc, google.protobuf"], { timeout: 30_000 }, (err) => {
      if (!err) resolve(undefined);
      else if ((err as NodeJS.ErrnoException).code === "ENOENT")
        resolve(`${python} is not installed here`);
      else if (err.killed) resolve(`${python} did not import grpcio within 30 s`);
      else resolve(`${python} cannot import grpcio and protobuf (apt install python3-grpcio)`);
    });
  });
  if (problem) return { ok: false, problem };
  return {
    ok: true,
    command: python,
    args: ["-m", "stallwatch_worker", ...args],
    env: { PYTHONPATH: dir, PYTHONUNBUFFERED: "1" },
  };
}
