import { Code, ConnectError } from "@connectrpc/connect";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import {
  ActionStatus,
  ControlService,
  type Action,
  type WatchActionResponse,
} from "../../../../gen/stallwatch/v1/control_pb";
import { newActionId } from "../../../shared/action-id";
import { queryKeys } from "../../../shared/query-keys";
import { useClient } from "../../../shared/transport-context";
import { useStreamedQuery } from "../../../shared/use-streamed-query";

export type ActionKindName = "cancelSession" | "drainWorker" | "cancelWorker";

export interface ActionInput {
  kind: ActionKindName;
  workerId: string;
  sessionId?: string;
  reason: string;
}

/** Until the gateway says otherwise, an action runs; after that its record is final. */
const finished = (action: Action | undefined) =>
  action !== undefined && action.status !== ActionStatus.RUNNING;

/**
 * Starts an action and follows it to its outcome (WatchAction, reconnecting
 * like every stream; the action lives in the Query cache under its id). The
 * action id is made once per attempt, so a retried click is the same action
 * on the gateway (idempotent), never a second one.
 */
export function useAction() {
  const client = useClient(ControlService);
  const queryClient = useQueryClient();
  const [actionId, setActionId] = useState<string | undefined>(undefined);

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
    onSuccess: (started, { actionId }) => {
      queryClient.setQueryData(queryKeys.action(actionId), started);
      setActionId(actionId);
    },
  });

  const watch = useStreamedQuery<WatchActionResponse, Action | undefined>({
    queryKey: queryKeys.action(actionId ?? ""),
    open: (signal) => client.watchAction({ actionId: actionId ?? "" }, { signal }),
    fold: (action, update) => update.action ?? action,
    initial: undefined,
    enabled: actionId !== undefined,
    done: finished,
    fatalCodes: [Code.NotFound, Code.InvalidArgument, Code.PermissionDenied, Code.Unauthenticated],
  });
  const action = actionId === undefined ? undefined : watch.data;

  const over = finished(action);
  useEffect(() => {
    if (over) void queryClient.invalidateQueries({ queryKey: queryKeys.audit.all });
  }, [over, queryClient]);

  const watchError =
    watch.fatal ??
    (actionId !== undefined && watch.status === "reconnecting" ? watch.error : undefined);
  return {
    action,
    error: mutation.error ? ConnectError.from(mutation.error) : watchError,
    pending: mutation.isPending,
    start: (input: ActionInput) => {
      setActionId(undefined);
      mutation.mutate({ input, actionId: newActionId("ui") });
    },
    reset: () => {
      setActionId(undefined);
      mutation.reset();
    },
  };
}
