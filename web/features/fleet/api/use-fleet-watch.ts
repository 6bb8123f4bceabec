import { FleetService, type WatchFleetResponse } from "../../../../gen/stallwatch/v1/fleet_pb";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";
import type { StreamState } from "../../../shared/use-stream";
import { useStreamedQuery } from "../../../shared/use-streamed-query";
import { applyFleetMessage, emptyFleet, type FleetState } from "./fleet-state";

/** At most one render per this interval, however fast deltas arrive. */
const RENDER_EVERY_MS = 300;

/**
 * The live fleet: a WatchFleet stream folded into the Query cache, with
 * renders batched so a thousand-worker fleet updating every second stays
 * smooth. A full state renders at once. Kept for the client's life (it is
 * one fleet, replaced in place), so coming back to the fleet page shows it
 * while the stream reopens.
 */
export function useFleetWatch(): { fleet: FleetState } & StreamState {
  const client = useClient(FleetService);
  const { data, ...stream } = useStreamedQuery<WatchFleetResponse, FleetState>({
    queryKey: queryKeys.fleet(),
    open: (signal) => client.watchFleet({}, { signal }),
    fold: applyFleetMessage,
    initial: emptyFleet,
    renderEveryMs: RENDER_EVERY_MS,
    renderNow: (message) => message.fullState,
    gcTime: Infinity,
  });
  return { fleet: data, ...stream };
}
