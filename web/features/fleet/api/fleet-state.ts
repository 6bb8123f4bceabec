import type {
  FleetTotals,
  WatchFleetResponse,
  Worker,
} from "../../../../gen/stallwatch/v1/fleet_pb";

/** The fleet as the browser holds it. */
export interface FleetState {
  workers: ReadonlyMap<string, Worker>;
  asOfMs: number;
  /** Fleet-wide totals of finished sessions. */
  totals?: FleetTotals | undefined;
}

export const emptyFleet: FleetState = { workers: new Map(), asOfMs: 0 };

/**
 * Applies one WatchFleet message: a full state replaces everything, a delta
 * upserts and removes. Pure; returns the same object when nothing changed so
 * React can skip work.
 */
export function applyFleetMessage(state: FleetState, message: WatchFleetResponse): FleetState {
  const asOfMs = Number(message.asOfMs) || state.asOfMs;
  const totals = message.totals ?? state.totals;
  if (message.fullState) {
    return { workers: new Map(message.workers.map((w) => [w.id, w])), asOfMs, totals };
  }
  if (message.workers.length === 0 && message.removedWorkerIds.length === 0) {
    return asOfMs === state.asOfMs && totals === state.totals
      ? state
      : { workers: state.workers, asOfMs, totals };
  }
  const workers = new Map(state.workers);
  for (const w of message.workers) workers.set(w.id, w);
  for (const id of message.removedWorkerIds) workers.delete(id);
  return { workers, asOfMs, totals };
}
