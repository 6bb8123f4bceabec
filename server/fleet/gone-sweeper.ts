import type { HeartbeatProber } from "../heartbeats/heartbeat-prober.js";
import type { Fleet } from "./fleet.js";

/**
 * Workers that left (gone or exited) stay visible for `retentionMs`, so the
 * incident view keeps showing what disappeared; after that they are removed.
 * Static targets are configuration, not discoveries: they stay, and keep
 * being retried.
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
    if (nowMs - live.sinceMs < retentionMs) continue;
    prober.removeTarget(worker.id, { keepWorker: true });
    fleet.remove(worker.id);
    removed.push(worker.id);
  }
  return removed;
}
