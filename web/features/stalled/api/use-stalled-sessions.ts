import {
  FleetService,
  type SessionView,
  type WatchStalledSessionsResponse,
} from "../../../../gen/stallwatch/v1/fleet_pb";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";
import { useStreamedQuery } from "../../../shared/use-streamed-query";

/** The board before the first message: nothing known yet (not "nothing stalled"). */
export interface StalledBoard {
  sessions: SessionView[] | undefined;
}

const before: StalledBoard = { sessions: undefined };

/**
 * Fleet-wide stalled sessions, longest without progress first, live: the
 * gateway's WatchStalledSessions stream (the whole list every second), folded
 * into the Query cache like every live view.
 */
export function useStalledSessions() {
  const client = useClient(FleetService);
  return useStreamedQuery<WatchStalledSessionsResponse, StalledBoard>({
    queryKey: queryKeys.stalled(),
    open: (signal) => client.watchStalledSessions({}, { signal }),
    fold: (_board, message) => ({ sessions: message.sessions }),
    initial: before,
  });
}
