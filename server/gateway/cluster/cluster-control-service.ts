import { create } from "@bufbuild/protobuf";
import type { CallOptions, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  ActionStatus,
  RetryActionResponseSchema,
  type ControlService,
} from "../../../gen/stallwatch/v1/control_pb.js";
import { requireOperator, type AuthConfig } from "../auth/caller.js";
import type { FleetReader } from "../fleet/fleet-reader.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { Store } from "../store/store.js";
import type { ClusterFront } from "./cluster-front.js";
import { FORWARDED_ACTOR_HEADER } from "./peer-auth.js";

type Local = ServiceImpl<typeof ControlService>;
type PerWorkerAction = "cancelSession" | "drainWorker" | "cancelWorker";
type PerWorkerHandler = (request: { workerId: string }, context: HandlerContext) => unknown;
type PerWorkerCall = (request: { workerId: string }, options: CallOptions) => unknown;

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
    fleet: FleetReader;
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

  /**
   * A per-worker action (cancel session, drain, cancel worker): carried out
   * here when this gateway has the worker, else by its owner.
   */
  const viaOwner = <M extends PerWorkerAction>(method: M): Local[M] => {
    // The three differ only in their message types: each request names its
    // worker and each answer is the action; TypeScript cannot index the
    // service and the client with one `M` and keep that link, hence the casts.
    const here = (local[method] as unknown as PerWorkerHandler).bind(local);
    const handler: PerWorkerHandler = (request, context) => {
      const peer = ownerOf(request.workerId);
      if (!peer) return here(request, context);
      const there = (peer.control[method] as unknown as PerWorkerCall).bind(peer.control);
      return there(request, forwarded(context, request.workerId));
    };
    return handler as unknown as Local[M];
  };

  return {
    ...local,
    cancelSession: viaOwner("cancelSession"),
    drainWorker: viaOwner("drainWorker"),
    cancelWorker: viaOwner("cancelWorker"),

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
