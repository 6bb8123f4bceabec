import type { HeartbeatProber } from "../heartbeats/heartbeat-prober.js";
import type { Fleet } from "./fleet.js";

/** How long a gone agent row that never answered a status request or heartbeat stays. */
export const NEVER_ANSWERED_RETENTION_MS = 60_000;

/**
 * Workers that left (gone or exited) stay visible for `retentionMs`, so the
 * incident view keeps showing what disappeared; after that they are removed.
 * Static targets are configuration, not discoveries: they stay, and keep
 * being retried. An agent row that never answered once (a stream that
 * announced and went, e.g. a flood of junk connections) goes after at most
 * `NEVER_ANSWERED_RETENTION_MS`: it showed nothing worth keeping for an hour.
 */
export function sweepGoneWorkers(
  fleet: Fleet,
  prober: HeartbeatProber,
  staticIds: ReadonlySet<string>,
  retentionMs: number,
  nowMs = Date.now(),
): string[] {
  const removed: string[] = [];
  for (const worker of fleet.all()) {
    const live = worker.liveness.current;
    if (staticIds.has(worker.id)) continue;
    if (live.state !== "gone" && live.state !== "exited") continue;
    if (worker.agent?.connected) continue;
    const keepFor =
      worker.kind === "agent" && live.lastHeartbeatAtMs === 0
        ? Math.min(retentionMs, NEVER_ANSWERED_RETENTION_MS)
        : retentionMs;
    if (nowMs - live.sinceMs < keepFor) continue;
    prober.removeTarget(worker.id, { keepWorker: true });
    fleet.remove(worker.id);
    removed.push(worker.id);
  }
  return removed;
}
