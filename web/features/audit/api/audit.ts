import { useQuery } from "@tanstack/react-query";
import { ControlService } from "../../../../gen/stallwatch/v1/control_pb";
import { FleetService } from "../../../../gen/stallwatch/v1/fleet_pb";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";

export function useAudit(filter: { workerId: string; actor: string }) {
  const client = useClient(ControlService);
  return useQuery({
    queryKey: queryKeys.audit.list(filter),
    queryFn: ({ signal }) =>
      client.listAudit({ ...filter, limit: 500 }, { signal, timeoutMs: 5000 }),
    refetchInterval: 5000,
  });
}

export function useEvents(filter: { workerId: string; kind: string }) {
  const client = useClient(FleetService);
  return useQuery({
    queryKey: queryKeys.events(filter),
    queryFn: ({ signal }) =>
      client.listEvents({ ...filter, limit: 500 }, { signal, timeoutMs: 5000 }),
    refetchInterval: 3000,
  });
}
