import { Liveness, type SessionView, type Worker } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { Snapshot } from "../../../gen/stallwatch/v1/snapshot_pb.js";
import { formatDuration } from "./durations.js";
import { stateName } from "./session-words.js";

/**
 * What a snapshot shows, in one line for the incident channel. Pure and
 * shared: the dashboard copies it with the permalink, and the gateway puts
 * it in the permalink's Open Graph / Twitter-card meta so a chat unfurls the
 * link without running the SPA. Only what the snapshot shows any viewer goes
 * in: never a token, never a header.
 */
export interface SnapshotSummary {
  /** "3 sessions stalled, 1 worker unresponsive" (or "6 workers, nothing wrong"). */
  headline: string;
  /** The worst thing in it: "demo-1: hang, processing 4 min, thread not moving". */
  worst: string;
  /** "of the fleet (6 workers)" or "of worker demo-1". */
  scope: string;
}

/** Worker-supplied strings are clipped to one short line. */
function oneLine(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** "40 s", "4 min", "2 h 5 min": time since, counted down as the dashboard does. */
export const shortDuration = (ms: number): string => formatDuration(ms, Math.floor);

function threadNotMoving(snapshot: Snapshot, view: SessionView): boolean {
  const detail = snapshot.details.find((d) => d.worker?.id === view.workerId);
  const sessionId = view.session?.sessionId;
  return (
    sessionId !== undefined &&
    (detail?.latestDump?.threads.some((t) => t.notMoving && t.thread?.sessionId === sessionId) ??
      false)
  );
}

/** The longest-stalled session: the one the channel most needs to hear about. */
export function worstStalled(snapshot: Snapshot): SessionView | undefined {
  let worst: SessionView | undefined;
  for (const v of snapshot.stalled)
    if (!worst || v.stalledSinceMs < worst.stalledSinceMs) worst = v;
  return worst;
}

function describeWorst(snapshot: Snapshot, workers: Worker[], nowMs: number): string {
  const stalled = worstStalled(snapshot);
  if (stalled?.session) {
    const s = stalled.session;
    const parts = [
      oneLine(s.udfName || s.sessionId),
      `${stateName(s.state)} ${shortDuration(nowMs - Number(s.stateEnteredAtMs))}`,
    ];
    if (threadNotMoving(snapshot, stalled)) parts.push("thread not moving");
    return `${oneLine(stalled.workerId)}: ${parts.join(", ")}`;
  }
  const down = workers.find(
    (w) => w.liveness === Liveness.UNRESPONSIVE || w.liveness === Liveness.GONE,
  );
  if (down) {
    const last = Number(down.lastHeartbeatAtMs);
    return `${oneLine(down.id)}: ${down.liveness === Liveness.GONE ? "gone" : "unresponsive"}${last ? `, last heartbeat ${shortDuration(nowMs - last)} ago` : ""}`;
  }
  return "";
}

export function summarizeSnapshot(snapshot: Snapshot): SnapshotSummary {
  const info = snapshot.info;
  const nowMs = Number(info?.createdAtMs ?? 0n);
  const workers = snapshot.workers;
  const count = (l: Liveness) => workers.filter((w) => w.liveness === l).length;
  const stalledSessions = Math.max(
    snapshot.stalled.length,
    workers.reduce((n, w) => n + w.stalledSessions, 0),
  );
  const problems: string[] = [];
  if (stalledSessions > 0) problems.push(`${plural(stalledSessions, "session")} stalled`);
  const unresponsive = count(Liveness.UNRESPONSIVE);
  if (unresponsive > 0) problems.push(`${plural(unresponsive, "worker")} unresponsive`);
  const gone = count(Liveness.GONE);
  if (gone > 0) problems.push(`${plural(gone, "worker")} gone`);
  const late = count(Liveness.LATE);
  if (late > 0) problems.push(`${plural(late, "worker")} late`);
  const scope = info?.workerId
    ? `of worker ${oneLine(info.workerId)}`
    : `of the fleet (${plural(info?.workerCount ?? workers.length, "worker")})`;
  return {
    headline:
      problems.length > 0
        ? problems.join(", ")
        : `${plural(workers.length, "worker")}, nothing wrong`,
    worst: describeWorst(snapshot, workers, nowMs),
    scope,
  };
}

/** The text "Share snapshot" copies: ready to paste into the incident channel. */
export function shareText(summary: SnapshotSummary, link: string): string {
  return [summary.headline, summary.worst, `snapshot ${link}`].filter(Boolean).join(" — ");
}
