import type { TrackedWorker } from "./tracked-worker.js";

/** How long a gone agent row that never answered a status request or heartbeat stays. */
export const NEVER_ANSWERED_RETENTION_MS = 60_000;

/**
 * Which workers that left (gone or exited) have been gone long enough to be
 * forgotten. They stay visible for `retentionMs`, so the incident view keeps
 * showing what disappeared. Static targets are configuration, not
 * discoveries: they stay, and keep being retried. An agent row that never
 * answered once (a stream that announced and went, e.g. a flood of junk
 * connections) goes after at most `NEVER_ANSWERED_RETENTION_MS`: it showed
 * nothing worth keeping for an hour.
 */
export function expiredGoneWorkers(
  workers: Iterable<TrackedWorker>,
  staticIds: ReadonlySet<string>,
  retentionMs: number,
  nowMs: number,
): string[] {
  const expired: string[] = [];
  for (const worker of workers) {
    const live = worker.liveness.current;
    if (staticIds.has(worker.id)) continue;
    if (live.state !== "gone" && live.state !== "exited") continue;
    if (worker.agent?.connected) continue;
    const keepFor =
      worker.kind === "agent" && live.lastHeartbeatAtMs === 0
        ? Math.min(retentionMs, NEVER_ANSWERED_RETENTION_MS)
        : retentionMs;
    if (nowMs - live.sinceMs >= keepFor) expired.push(worker.id);
  }
  return expired;
}
