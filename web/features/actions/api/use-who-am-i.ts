import { useQuery } from "@tanstack/react-query";
import { ControlService, Role } from "../../../../gen/stallwatch/v1/control_pb";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";

/** The caller's role; actions are disabled (with the reason) for viewers. */
export function useWhoAmI() {
  const client = useClient(ControlService);
  const query = useQuery({
    queryKey: queryKeys.whoAmI(),
    queryFn: ({ signal }) => client.whoAmI({}, { signal, timeoutMs: 5000 }),
    staleTime: 30_000,
  });
  return {
    isOperator: query.data?.role === Role.OPERATOR,
    actor: query.data?.actor ?? "",
    reason:
      query.data?.reason ??
      (query.isError ? "could not ask the gateway who you are" : "checking your role…"),
    query,
  };
}
