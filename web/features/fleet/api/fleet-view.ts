import { Liveness, WorkerKind, type Worker } from "../../../../gen/stallwatch/v1/fleet_pb";
import { KIND_LABEL, LIVENESS_LABEL, LIVENESS_SEVERITY } from "../../../shared/liveness";

export type SortKey = "severity" | "id" | "latency" | "heartbeat" | "sessions";

export interface FleetFilter {
  text: string;
  kind: WorkerKind | undefined;
  liveness: Liveness | undefined;
  sort: SortKey;
}

function matches(w: Worker, f: FleetFilter): boolean {
  if (f.kind !== undefined && w.kind !== f.kind) return false;
  if (f.liveness !== undefined && w.liveness !== f.liveness) return false;
  if (f.text) {
    const needle = f.text.toLowerCase();
    const hay =
      `${w.id} ${w.address} ${KIND_LABEL[w.kind]} ${LIVENESS_LABEL[w.liveness]} ${w.livenessReason}`.toLowerCase();
    if (!hay.includes(needle)) return false;
  }
  return true;
}

const byId = (a: Worker, b: Worker) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const COMPARATORS: Record<SortKey, (a: Worker, b: Worker) => number> = {
  // Worst first; among equals, stalled sessions, then the longest in that state.
  severity: (a, b) =>
    LIVENESS_SEVERITY[a.liveness] - LIVENESS_SEVERITY[b.liveness] ||
    b.stalledSessions - a.stalledSessions ||
    Number(a.livenessSinceMs - b.livenessSinceMs) ||
    byId(a, b),
  id: byId,
  latency: (a, b) => (b.latency?.p99Ms ?? 0) - (a.latency?.p99Ms ?? 0) || byId(a, b),
  heartbeat: (a, b) => Number(a.lastHeartbeatAtMs - b.lastHeartbeatAtMs) || byId(a, b),
  sessions: (a, b) => b.activeSessions - a.activeSessions || byId(a, b),
};

/** Filters and sorts; pure, so callers memoize it outside render. */
export function viewFleet(workers: Iterable<Worker>, filter: FleetFilter): Worker[] {
  const out: Worker[] = [];
  for (const w of workers) if (matches(w, filter)) out.push(w);
  return out.sort(COMPARATORS[filter.sort]);
}

export interface Incident {
  /** Workers with stalled sessions. */
  stalledWorkers: Worker[];
  unresponsive: Worker[];
  gone: Worker[];
  late: Worker[];
  stalledSessions: number;
}

/** What the banner reports. */
export function findIncident(workers: Iterable<Worker>): Incident {
  const incident: Incident = {
    stalledWorkers: [],
    unresponsive: [],
    gone: [],
    late: [],
    stalledSessions: 0,
  };
  for (const w of workers) {
    if (w.liveness === Liveness.UNRESPONSIVE) incident.unresponsive.push(w);
    else if (w.liveness === Liveness.GONE) incident.gone.push(w);
    else if (w.liveness === Liveness.LATE) incident.late.push(w);
    incident.stalledSessions += w.stalledSessions;
    if (w.stalledSessions > 0) incident.stalledWorkers.push(w);
  }
  return incident;
}
