import type { FleetEvent } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { EventLog } from "../events/event-log.js";

/** Events a snapshot keeps per worker (its worker page's list). */
export const EVENTS_PER_WORKER = 50;

/**
 * The newest `limit` events of each worker in `ids`, newest first, from one
 * pass over the log: asking the log once per worker scanned every event
 * 5,000 times for a 5,000-worker fleet.
 */
export function recentEventsByWorker(
  events: EventLog,
  ids: ReadonlySet<string>,
  limit: number,
): Map<string, FleetEvent[]> {
  const out = new Map<string, FleetEvent[]>();
  for (const e of events.list({ limit: Number.MAX_SAFE_INTEGER })) {
    if (!ids.has(e.workerId)) continue;
    let list = out.get(e.workerId);
    if (!list) {
      list = [];
      out.set(e.workerId, list);
    }
    if (list.length < limit) list.push(e);
  }
  return out;
}
