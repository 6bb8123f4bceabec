import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  ActionKind,
  ActionStatus,
  CancelSessionResponseSchema,
  CancelWorkerResponseSchema,
  ControlService,
  DrainWorkerResponseSchema,
  ListAuditResponseSchema,
  RetryActionResponseSchema,
  WatchActionResponseSchema,
  WhoAmIResponseSchema,
  type Action,
} from "../../../gen/stallwatch/v1/control_pb.js";
import type { Clock } from "../../shared/clock/clock.js";
import { BoundedQueue } from "../../shared/streams/bounded-queue.js";
import { identifyCaller, requireOperator, type AuthConfig } from "../auth/caller.js";
import type { ActionRequest } from "./action-request.js";
import type { ActionRunner } from "./action-runner.js";
import type { ActionStore } from "../store/action-store.js";

/** Operator actions and the audit trail, for the browser. */
export function createControlService(
  runner: ActionRunner,
  store: ActionStore,
  auth: AuthConfig,
  clock: Clock,
): ServiceImpl<typeof ControlService> {
  /** Starts `kind` for an operator; every action RPC answers with the action it started. */
  const start = async (kind: ActionKind, request: ActionRequest, header: Headers) =>
    runner.start(kind, request, requireOperator(header, auth));
  return {
    whoAmI(_request, context) {
      return create(WhoAmIResponseSchema, identifyCaller(context.requestHeader, auth));
    },

    async cancelSession(request, context) {
      const action = await start(ActionKind.CANCEL_SESSION, request, context.requestHeader);
      return create(CancelSessionResponseSchema, { action });
    },

    async drainWorker(request, context) {
      const action = await start(ActionKind.DRAIN_WORKER, request, context.requestHeader);
      return create(DrainWorkerResponseSchema, { action });
    },

    async cancelWorker(request, context) {
      const action = await start(ActionKind.CANCEL_WORKER, request, context.requestHeader);
      return create(CancelWorkerResponseSchema, { action });
    },

    async retryAction(request, context) {
      const caller = requireOperator(context.requestHeader, auth);
      const action = await runner.retry(request.actionId, request.retryOf, request.reason, caller);
      return create(RetryActionResponseSchema, { action });
    },

    async *watchAction(request, context) {
      const first = await runner.get(request.actionId);
      if (!first)
        throw new ConnectError(`no action "${request.actionId.slice(0, 100)}"`, Code.NotFound);
      const queue = new BoundedQueue<Action>(32, clock);
      const unsubscribe = runner.subscribe(request.actionId, (a) => queue.push(a));
      try {
        let current = first;
        yield create(WatchActionResponseSchema, { action: current });
        while (current.status === ActionStatus.RUNNING) {
          const updates = await queue.takeAll(context.signal, 15_000);
          if (updates === undefined) break;
          current = (await runner.get(request.actionId)) ?? current;
          // On overflow only the latest state matters.
          queue.overflowed = false;
          yield create(WatchActionResponseSchema, { action: current });
        }
      } finally {
        unsubscribe();
      }
    },

    async listAudit(request) {
      return create(ListAuditResponseSchema, {
        records: await store.listAudit({
          ...(request.workerId ? { workerId: request.workerId } : {}),
          ...(request.actor ? { actor: request.actor } : {}),
          ...(request.kind !== ActionKind.UNSPECIFIED ? { kind: request.kind } : {}),
          limit: Math.min(request.limit || 200, 1000),
        }),
      });
    },
  };
}
