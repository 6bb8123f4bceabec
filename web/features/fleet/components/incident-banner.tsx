import { Link } from "react-router";
import type { Worker } from "../../../../gen/stallwatch/v1/fleet_pb";
import { ago } from "../../../shared/format";
import type { Incident } from "../api/fleet-view";

function oldestHeartbeat(workers: Worker[]): number {
  let oldest = Infinity;
  for (const w of workers) {
    const at = Number(w.lastHeartbeatAtMs);
    if (at && at < oldest) oldest = at;
  }
  return oldest === Infinity ? 0 : oldest;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Where each part of the banner links; undefined = plain text. */
export interface BannerLinks {
  worker: (id: string) => string | undefined;
  gone: () => string | undefined;
  stalled: (incident: Incident) => string | undefined;
}

/** The live dashboard's links. */
export const liveBannerLinks: BannerLinks = {
  worker: (id) => `/workers/${encodeURIComponent(id)}`,
  gone: () => "/?state=gone",
  stalled: () => "/stalled",
};

const withLink = (to: string | undefined) => (to ? { to } : {});

/**
 * What is wrong, in words, with how stale it is against the real threshold:
 * "2 workers unresponsive — last heartbeat 9 min ago". Hidden when all is well.
 */
export function IncidentBanner({
  incident,
  nowMs,
  unresponsiveAfterText,
  links = liveBannerLinks,
}: {
  incident: Incident;
  nowMs: number;
  unresponsiveAfterText?: string;
  /** A snapshot passes links that stay inside it. */
  links?: BannerLinks;
}) {
  const parts: { key: string; text: string; to?: string }[] = [];
  if (incident.unresponsive.length > 0) {
    const last = oldestHeartbeat(incident.unresponsive);
    const first = incident.unresponsive[0];
    parts.push({
      key: "unresponsive",
      text: `${plural(incident.unresponsive.length, "worker")} unresponsive — last heartbeat ${ago(last, nowMs)}${unresponsiveAfterText ? ` (threshold ${unresponsiveAfterText})` : ""}`,
      ...withLink(incident.unresponsive.length === 1 && first ? links.worker(first.id) : undefined),
    });
  }
  if (incident.gone.length > 0) {
    parts.push({
      key: "gone",
      text: `${plural(incident.gone.length, "worker")} gone`,
      ...withLink(links.gone()),
    });
  }
  if (incident.stalledSessions > 0) {
    parts.push({
      key: "stalled",
      text: `${plural(incident.stalledSessions, "session")} stalled`,
      ...withLink(links.stalled(incident)),
    });
  }
  if (incident.late.length > 0)
    parts.push({ key: "late", text: `${plural(incident.late.length, "worker")} late` });
  if (parts.length === 0) return null;
  return (
    <div role="alert" className="banner incident-banner">
      {parts.map((p, i) => (
        <span key={p.key}>
          {i > 0 && <span aria-hidden="true"> · </span>}
          {p.to ? <Link to={p.to}>{p.text}</Link> : p.text}
        </span>
      ))}
    </div>
  );
}
