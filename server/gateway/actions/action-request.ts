import { Code, ConnectError } from "@connectrpc/connect";
import { ActionKind, ActionStatus, type Action } from "../../../gen/stallwatch/v1/control_pb.js";

export interface ActionRequest {
  actionId: string;
  workerId: string;
  sessionId?: string;
  reason: string;
  graceMs?: number;
  /** Set by a remediation policy: what it saw, and the snapshot frozen as evidence. */
  evidence?: string;
  evidenceSnapshotId?: string;
}

export const ACTION_ID = /^[\w-]{1,100}$/;

/** Refuses a request that is not a well-formed action (InvalidArgument, naming the field). */
export function validateRequest(kind: ActionKind, request: ActionRequest): void {
  if (!ACTION_ID.test(request.actionId)) {
    throw new ConnectError("action_id must be 1-100 letters, digits, _ or -", Code.InvalidArgument);
  }
  const reason = request.reason.trim();
  if (reason === "") throw new ConnectError("a reason is required", Code.InvalidArgument);
  if (reason.length > 1000)
    throw new ConnectError("the reason must be at most 1000 characters", Code.InvalidArgument);
  if (request.workerId === "")
    throw new ConnectError("worker_id is required", Code.InvalidArgument);
  if (kind === ActionKind.CANCEL_SESSION && !request.sessionId) {
    throw new ConnectError("session_id is required", Code.InvalidArgument);
  }
  if ((request.evidence?.length ?? 0) > 4000)
    throw new ConnectError("evidence must be at most 4000 characters", Code.InvalidArgument);
  if (request.graceMs !== undefined && request.graceMs > 600_000) {
    throw new ConnectError("grace_ms must be at most 600000", Code.InvalidArgument);
  }
}

/**
 * The request that resumes `old` (an INTERRUPTED action) under `actionId`:
 * same worker, session and grace, and the new reason if one was given.
 * Refuses an action that does not exist, did not get interrupted, or was
 * already retried.
 */
export function retryRequest(
  old: Action | undefined,
  retryOf: string,
  actionId: string,
  reason: string,
): ActionRequest & { old: Action } {
  if (!old) throw new ConnectError(`no action "${retryOf.slice(0, 100)}"`, Code.NotFound);
  if (old.status !== ActionStatus.INTERRUPTED)
    throw new ConnectError(
      `only an interrupted action can be retried; ${old.actionId} is ${ActionStatus[old.status].toLowerCase()}`,
      Code.FailedPrecondition,
    );
  if (old.retriedBy)
    throw new ConnectError(
      `${old.actionId} was already retried as ${old.retriedBy}`,
      Code.FailedPrecondition,
    );
  return {
    old,
    actionId,
    workerId: old.workerId,
    reason: reason.trim() || old.reason,
    ...(old.sessionId ? { sessionId: old.sessionId } : {}),
    ...(old.graceMs ? { graceMs: old.graceMs } : {}),
  };
}
