import { useQuery } from "@tanstack/react-query";
import { FleetService } from "../../../../gen/stallwatch/v1/fleet_pb";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";

/** Fleet-wide stalled sessions, longest without progress first; refreshed every 2 s. */
export function useStalledSessions() {
  const client = useClient(FleetService);
  return useQuery({
    queryKey: queryKeys.stalled(),
    queryFn: ({ signal }) => client.listStalledSessions({}, { signal, timeoutMs: 5000 }),
    refetchInterval: 2000,
  });
}
