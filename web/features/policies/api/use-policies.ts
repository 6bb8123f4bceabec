import { useQuery } from "@tanstack/react-query";
import { PolicyService } from "../../../../gen/stallwatch/v1/policy_pb";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";

/**
 * Every configured policy with its mode and counters, and the dry-run
 * switch. Polled: counters change when a status interval evaluates, not
 * faster, so a few seconds' lag costs nothing.
 */
export function usePolicies() {
  const client = useClient(PolicyService);
  return useQuery({
    queryKey: queryKeys.policies.list(),
    queryFn: ({ signal }) => client.listPolicies({}, { signal, timeoutMs: 5000 }),
    refetchInterval: 3000,
  });
}
