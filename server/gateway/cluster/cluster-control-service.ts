import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  ActionStatus,
  CancelSessionResponseSchema,
  CancelWorkerResponseSchema,
  DrainWorkerResponseSchema,
  RetryActionResponseSchema,
  type ControlService,
} from "../../../gen/stallwatch/v1/control_pb.js";
import { requireOperator, type AuthConfig } from "../auth/caller.js";
import type { Fleet } from "../fleet/fleet.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { Store } from "../store/store.js";
import type { ClusterFront } from "./cluster-front.js";
import { FORWARDED_ACTOR_HEADER } from "./peer-auth.js";

type Local = ServiceImpl<typeof ControlService>;

/** Deadline on an action forwarded to its worker's owner (it answers once recorded). */
const FORWARD_MS = 10_000;

/**
 * The browser's ControlService in a cluster: an action on a worker another
 * gateway owns is checked here (operator role, the caller's identity) and
 * carried out by that owner, which records it in the shared database; the
 * audit list is the shared one already.
 */
export function createClusterControlService(
  local: Local,
  deps: {
    fleet: Fleet;
    front: ClusterFront;
    store: Pick<Store, "getAction">;
    auth: AuthConfig;
    log: Logger;
  },
): Local {
  const { fleet, front, auth } = deps;
  const ownerOf = (id: string) => (fleet.get(id) ? undefined : front.ownerOf(id));
  const forwarded = (context: HandlerContext, workerId: string) => {
    const caller = requireOperator(context.requestHeader, auth);
    deps.log.info(
      { worker: workerId, actor: caller.actor, path: context.method.name },
      "action forwarded to the worker's gateway",
    );
    return {
      signal: context.signal,
      timeoutMs: FORWARD_MS,
      headers: { [FORWARDED_ACTOR_HEADER]: caller.actor },
    };
  };

  return {
    ...local,

    async cancelSession(request, context) {
      const peer = ownerOf(request.workerId);
      if (!peer) return local.cancelSession(request, context);
      const r = await peer.control.cancelSession(request, forwarded(context, request.workerId));
      return create(CancelSessionResponseSchema, r);
    },

    async drainWorker(request, context) {
      const peer = ownerOf(request.workerId);
      if (!peer) return local.drainWorker(request, context);
      const r = await peer.control.drainWorker(request, forwarded(context, request.workerId));
      return create(DrainWorkerResponseSchema, r);
    },

    async cancelWorker(request, context) {
      const peer = ownerOf(request.workerId);
      if (!peer) return local.cancelWorker(request, context);
      const r = await peer.control.cancelWorker(request, forwarded(context, request.workerId));
      return create(CancelWorkerResponseSchema, r);
    },

    async retryAction(request, context) {
      const old = await deps.store.getAction(request.retryOf);
      const peer = old ? ownerOf(old.workerId) : undefined;
      if (!old || !peer) return local.retryAction(request, context);
      const r = await peer.control.retryAction(request, forwarded(context, old.workerId));
      return create(RetryActionResponseSchema, r);
    },

    async *watchAction(request, context) {
      // A running action is followed where it runs; a finished one is in the database.
      const action = await deps.store.getAction(request.actionId);
      const peer = action?.status === ActionStatus.RUNNING ? ownerOf(action.workerId) : undefined;
      if (peer) yield* peer.control.watchAction(request, { signal: context.signal });
      else yield* local.watchAction(request, context);
    },
  };
}
