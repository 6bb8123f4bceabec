import type { Logger } from "../shared/logging/logger.js";
import type { DemoChildren } from "./demo-children.js";
import { pythonWorkerLaunch } from "./python-worker.js";

/** The demo's Python reference worker (python/stallwatch_worker), with its agent. */
export const PYTHON_WORKER = "demo-py";

const RESTART_MS = 3_000;

/**
 * Starts the Python worker, its agent dialling the gateway's `grpc`, and
 * resolves with its Manage address; or with the reason it cannot run here
 * (no Debian Python with grpcio): the demo goes on without it and says so.
 * Restarted on the same address if it exits unexpectedly, like the others.
 */
export async function startDemoPythonWorker(
  children: DemoChildren,
  grpc: string,
  log: Logger,
): Promise<{ address: string } | { problem: string }> {
  const start = async (listen: string): Promise<{ address: string } | { problem: string }> => {
    const launch = await pythonWorkerLaunch([
      ...["--listen", listen, "--id", PYTHON_WORKER, "--gateway", grpc],
    ]);
    if (!launch.ok) return { problem: launch.problem };
    const child = children.spawnProgram(PYTHON_WORKER, launch.command, launch.args, launch.env);
    const address = String((await child.listening).address);
    void child.exited.then((code) => {
      if (children.stopping || code === 0) return;
      log.warn(
        { worker: PYTHON_WORKER, code, restartInMs: RESTART_MS },
        "worker exited; restarting it",
      );
      children.later(RESTART_MS, () => {
        start(address).catch((err: unknown) =>
          log.error({ err, worker: PYTHON_WORKER }, "restart failed"),
        );
      });
    });
    return { address };
  };
  const started = await start("127.0.0.1:0").catch((err: unknown) => ({
    problem: `it did not start: ${(err as Error).message}`,
  }));
  if ("problem" in started)
    log.warn({ worker: PYTHON_WORKER, problem: started.problem }, "no Python worker in this demo");
  return started;
}
