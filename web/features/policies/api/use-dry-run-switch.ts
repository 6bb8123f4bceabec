import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ConnectError } from "@connectrpc/connect";
import { PolicyService } from "../../../../gen/stallwatch/v1/policy_pb";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";

/**
 * Flips the fleet-wide dry-run switch (operator only; the gateway audits it
 * and keeps it across restarts). On success every policy list refetches, so
 * the effective modes shown are the gateway's, never guessed here.
 */
export function useDryRunSwitch() {
  const client = useClient(PolicyService);
  const queries = useQueryClient();
  const mutation = useMutation({
    mutationFn: (req: { on: boolean; reason: string }) =>
      client.setDryRunOverride(req, { timeoutMs: 10_000 }),
    onSettled: () => queries.invalidateQueries({ queryKey: queryKeys.policies.all }),
  });
  return {
    set: mutation.mutate,
    pending: mutation.isPending,
    done: mutation.data?.dryRunOverride,
    error: mutation.error ? ConnectError.from(mutation.error) : undefined,
    reset: mutation.reset,
  };
}
