import type { Logger } from "../shared/logging/logger.js";
import type { DemoChildren } from "./demo-children.js";

/** The incident's workers, by what they do; the README's demo table describes each. */
export const INCIDENT = {
  hang: "demo-1",
  slow: "demo-2",
  spin: "demo-3",
  /** Killed every KILL_EVERY_MS, restarted RESTART_KILLED_MS later. */
  killed: "demo-4",
} as const;

const KILL_EVERY_MS = 90_000;
const RESTART_KILLED_MS = 8_000;
const RESTART_MS = 3_000;

/** Beam harness look-alikes in the incident, one per SDK format, each with its own hung bundle. */
export function beamFormatsFor(scenario: "incident" | "calm"): Map<string, string> {
  return new Map<string, string>(
    scenario === "incident"
      ? [
          ["demo-5", "python"],
          ["demo-beam-java", "java"],
          ["demo-beam-go", "go"],
        ]
      : [],
  );
}

/**
 * Starts one reference worker per id (an agent, or a Beam harness for the
 * ids in `beamFormats`) and resolves with their Manage addresses. A worker
 * that exits unexpectedly is restarted on the same address.
 */
export async function startDemoWorkers(
  children: DemoChildren,
  ids: readonly string[],
  grpc: string,
  beamFormats: ReadonlyMap<string, string>,
  log: Logger,
): Promise<Map<string, string>> {
  const addresses = new Map<string, string>();
  const startWorker = async (id: string, listen: string): Promise<void> => {
    const format = beamFormats.get(id);
    const mode = format ? ["--beam-status", grpc, "--beam-format", format] : ["--gateway", grpc];
    const child = children.spawn(id, ["worker", "--listen", listen, "--id", id, ...mode]);
    const address = String((await child.listening).address);
    addresses.set(id, address);
    void child.exited.then((code) => {
      // Exit 0 is a drained or cancelled worker doing what it was asked: a supervisor would not restart it.
      if (children.stopping || code === 0) {
        if (code === 0)
          log.info({ worker: id }, "worker exited after a shutdown request; not restarting it");
        return;
      }
      const delay = id === INCIDENT.killed ? RESTART_KILLED_MS : RESTART_MS;
      log.warn({ worker: id, code, restartInMs: delay }, "worker exited; restarting it");
      children.later(delay, () => {
        startWorker(id, address).catch((err: unknown) =>
          log.error({ err, worker: id }, "restart failed"),
        );
      });
    });
  };
  await Promise.all(ids.map((id) => startWorker(id, "127.0.0.1:0")));
  return addresses;
}

/** Kills the incident's `killed` worker every KILL_EVERY_MS (it is restarted). */
export function killPeriodically(children: DemoChildren, log: Logger): void {
  children.later(KILL_EVERY_MS, () => {
    const victim = children.find(INCIDENT.killed);
    if (victim) {
      log.warn({ worker: INCIDENT.killed }, "demo: killing demo-4 (it will be restarted)");
      victim.child.kill("SIGKILL");
    }
    killPeriodically(children, log);
  });
}
