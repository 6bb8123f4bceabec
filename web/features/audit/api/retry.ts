import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ControlService } from "../../../../gen/stallwatch/v1/control_pb";
import { newActionId } from "../../../shared/action-id";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";

/**
 * Retries an interrupted action under a new id linked to the old one. The new
 * id is made once per record, so a repeated click is the same retry on the
 * gateway (idempotent), never a second one.
 */
export function useRetryAction(retryOf: string) {
  const client = useClient(ControlService);
  const queryClient = useQueryClient();
  const [actionId] = useState(() => newActionId("ui-retry"));
  return useMutation({
    mutationFn: () => client.retryAction({ actionId, retryOf, reason: "" }, { timeoutMs: 10_000 }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: queryKeys.audit.all }),
  });
}
