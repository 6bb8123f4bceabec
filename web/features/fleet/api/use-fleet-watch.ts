import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { FleetService, type WatchFleetResponse } from "../../../../gen/stallwatch/v1/fleet_pb";
import { useClient } from "../../../app/transport-context";
import { useServerStream, type StreamState } from "../../../shared/use-stream";
import { applyFleetMessage, emptyFleet, type FleetState } from "./fleet-state";

/** The query key the live fleet is kept under, for any view that needs it. */
export const fleetQueryKey = ["stallwatch", "fleet", "live"] as const;

/** At most one render per this interval, however fast deltas arrive. */
const RENDER_EVERY_MS = 300;

/**
 * The live fleet: a WatchFleet stream folded into the TanStack Query cache
 * (so other views read the same data without another stream), with renders
 * batched so a thousand-worker fleet updating every second stays smooth.
 */
export function useFleetWatch(): { fleet: FleetState } & StreamState {
  const client = useClient(FleetService);
  const queryClient = useQueryClient();
  const pending = useRef<FleetState | undefined>(undefined);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  // No query observes this entry (the stream writes it, useSyncExternalStore
  // reads it), so TanStack's default gcTime (5 min) collected it 300 s after
  // it was made and the fleet page went blank until the next message. Kept
  // for the client's life instead: it is one fleet, replaced in place.
  useState(() => {
    queryClient.setQueryDefaults(fleetQueryKey, { gcTime: Infinity, staleTime: Infinity });
    return true;
  });

  const flush = useCallback(() => {
    timer.current = undefined;
    if (pending.current) queryClient.setQueryData(fleetQueryKey, pending.current);
    pending.current = undefined;
  }, [queryClient]);

  const onMessage = useCallback(
    (message: WatchFleetResponse) => {
      const base =
        pending.current ?? queryClient.getQueryData<FleetState>(fleetQueryKey) ?? emptyFleet;
      pending.current = applyFleetMessage(base, message);
      if (message.fullState) flush();
      else timer.current ??= setTimeout(flush, RENDER_EVERY_MS);
    },
    [flush, queryClient],
  );

  useEffect(() => () => clearTimeout(timer.current), []);

  const stream = useServerStream("fleet", (signal) => client.watchFleet({}, { signal }), onMessage);
  const fleet = useSyncExternalStore(
    (notify) => queryClient.getQueryCache().subscribe(notify),
    () => queryClient.getQueryData<FleetState>(fleetQueryKey) ?? emptyFleet,
  );
  return { fleet, ...stream };
}
