import { ConnectError } from "@connectrpc/connect";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import {
  ActionStatus,
  ControlService,
  type Action,
} from "../../../../gen/stallwatch/v1/control_pb";
import { useClient } from "../../../app/transport-context";

export type ActionKindName = "cancelSession" | "drainWorker" | "cancelWorker";

export interface ActionInput {
  kind: ActionKindName;
  workerId: string;
  sessionId?: string;
  reason: string;
}

function newActionId(): string {
  return `ui-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Starts an action and follows it to its outcome (WatchAction). The action
 * id is made once per attempt, so a retried click is the same action on the
 * gateway (idempotent), never a second one.
 */
export function useAction() {
  const client = useClient(ControlService);
  const queryClient = useQueryClient();
  const [action, setAction] = useState<Action | undefined>(undefined);
  const [watchError, setWatchError] = useState<ConnectError | undefined>(undefined);

  const mutation = useMutation({
    mutationFn: async ({ input, actionId }: { input: ActionInput; actionId: string }) => {
      const common = { actionId, workerId: input.workerId, reason: input.reason };
      const response =
        input.kind === "cancelSession"
          ? await client.cancelSession(
              { ...common, sessionId: input.sessionId ?? "" },
              { timeoutMs: 10_000 },
            )
          : input.kind === "drainWorker"
            ? await client.drainWorker(common, { timeoutMs: 10_000 })
            : await client.cancelWorker(common, { timeoutMs: 10_000 });
      return response.action;
    },
    onSuccess: (started) => setAction(started),
  });

  const actionId = action?.actionId;
  const running = action?.status === ActionStatus.RUNNING;
  useEffect(() => {
    if (!actionId || !running) return;
    const ac = new AbortController();
    void (async () => {
      try {
        for await (const update of client.watchAction({ actionId }, { signal: ac.signal })) {
          if (update.action) setAction(update.action);
        }
        void queryClient.invalidateQueries({ queryKey: ["stallwatch", "audit"] });
      } catch (err) {
        if (!ac.signal.aborted) setWatchError(ConnectError.from(err));
      }
    })();
    return () => ac.abort();
  }, [actionId, running, client, queryClient]);

  return {
    action,
    error: mutation.error ? ConnectError.from(mutation.error) : watchError,
    pending: mutation.isPending,
    start: (input: ActionInput) => {
      setWatchError(undefined);
      mutation.mutate({ input, actionId: newActionId() });
    },
    reset: () => {
      setAction(undefined);
      setWatchError(undefined);
      mutation.reset();
    },
  };
}
