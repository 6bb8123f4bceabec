import { useQuery } from "@tanstack/react-query";
import { PolicyService } from "../../../../gen/stallwatch/v1/policy_pb";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";

/** The newest decisions (matches and what came of them), of one policy or all (""). */
export function usePolicyDecisions(policy: string) {
  const client = useClient(PolicyService);
  return useQuery({
    queryKey: queryKeys.policies.decisions(policy),
    queryFn: ({ signal }) =>
      client.listPolicyDecisions({ policy, limit: 200 }, { signal, timeoutMs: 5000 }),
    refetchInterval: 3000,
  });
}
