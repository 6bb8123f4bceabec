import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { CancelSessionSchema, CommandOutcome } from "../../../gen/stallwatch/v1/agent_pb.js";
import { ActionKind, ActionStatus, type Action } from "../../../gen/stallwatch/v1/control_pb.js";
import { ShutdownRequestSchema } from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import { sleep } from "../../shared/clock/clock.js";
import { formatDuration } from "../../shared/words/durations.js";
import type { ActionOps } from "./action-ops.js";
import { canKillThroughAgent, killThroughAgent } from "./kill-through-agent.js";

const SHUTDOWN_DEADLINE_MS = 5000;
const PROGRESS_POLL_MS = 500;

export type { ActionOps, ManageClients } from "./action-ops.js";

/** Refuses an action the worker has no path for (FailedPrecondition, saying which path). */
export function checkReachable(
  ops: Pick<ActionOps, "agents" | "prober">,
  kind: ActionKind,
  workerId: string,
): void {
  // A profile's source is chosen (and refused) by the profile runner.
  if (kind === ActionKind.PROFILE) return;
  if (kind === ActionKind.CANCEL_SESSION && !ops.agents.has(workerId))
    throw new ConnectError(
      `worker ${workerId} has no agent connection, so one session cannot be cancelled; cancel the worker instead`,
      Code.FailedPrecondition,
    );
  if (kind !== ActionKind.CANCEL_SESSION && !ops.prober.clientFor(workerId))
    throw new ConnectError(
      `worker ${workerId} has no Manage endpoint to send a shutdown to`,
      Code.FailedPrecondition,
    );
}

/** An action's fields for a log line. */
export function describe(action: Action): Record<string, unknown> {
  return {
    action: action.actionId,
    kind: ActionKind[action.kind],
    worker: action.workerId,
    session: action.sessionId,
    reason: action.reason,
    retryOf: action.retryOf || undefined,
  };
}

/** Cancels one session through the worker's agent. */
export async function cancelSession(ops: ActionOps, action: Action): Promise<void> {
  const channel = ops.agents.get(action.workerId);
  if (!channel) {
    await ops.finish(action, ActionStatus.FAILED, "failed: the worker's agent disconnected");
    return;
  }
  const graceMs = action.graceMs || ops.defaultGraceMs;
  const result = await channel.cancelSession(
    create(CancelSessionSchema, { sessionId: action.sessionId, reason: action.reason, graceMs }),
    graceMs + 10_000,
  );
  const took = formatDuration(Number(result.tookMs));
  switch (result.outcome) {
    case CommandOutcome.CANCELLED_COOPERATIVELY:
      await ops.finish(
        action,
        ActionStatus.SUCCEEDED,
        `cancelled: user code yielded within ${took}`,
      );
      break;
    case CommandOutcome.THREAD_TERMINATED:
      await ops.finish(
        action,
        ActionStatus.SUCCEEDED,
        `cancel escalated: thread terminated after ${took}`,
      );
      break;
    case CommandOutcome.ALREADY_ENDED:
      await ops.finish(
        action,
        ActionStatus.SUCCEEDED,
        "nothing to do: the session had already ended",
      );
      break;
    case CommandOutcome.NOT_FOUND:
      await ops.finish(
        action,
        ActionStatus.FAILED,
        `failed: no session ${action.sessionId} on the worker`,
      );
      break;
    default:
      await ops.finish(
        action,
        ActionStatus.FAILED,
        `failed: ${result.message || "the worker could not cancel the session"}`,
      );
  }
}

/** Drain (`cancel_sessions=false`) or cancel-all: send the shutdown, then watch until exit. */
export async function shutdownWorker(
  ops: ActionOps,
  action: Action,
  worker: TrackedWorker,
): Promise<void> {
  const cancelSessions = action.kind === ActionKind.CANCEL_WORKER;
  const client = ops.prober.clientFor(worker.id);
  if (!client) {
    await ops.finish(action, ActionStatus.FAILED, "failed: the worker has no Manage endpoint");
    return;
  }
  const atStart = Number(worker.metrics.active_sessions ?? worker.status.sessions.length) || 0;
  action.sessionsAtStart = atStart;
  action.sessionsRemaining = atStart;
  const result = await client.shutdown(
    create(ShutdownRequestSchema, { reason: `${action.actor}: ${action.reason}`, cancelSessions }),
    SHUTDOWN_DEADLINE_MS,
  );
  if (!result.ok) {
    // A worker that cannot run its own code (a GIL held by native code) may
    // still have an agent beside it that can end the process.
    if (cancelSessions && canKillThroughAgent(ops, worker)) {
      const stuck = `the Manage shutdown went unanswered: ${result.reason}`;
      await killThroughAgent(ops, action, worker, stuck, atStart);
      return;
    }
    await ops.finish(action, ActionStatus.FAILED, `failed: worker unreachable (${result.reason})`);
    return;
  }
  // Committed so a restart knows the worker accepted it (see reconcile.ts).
  await ops.update(
    action,
    {
      workerAcknowledged: true,
      outcome: `${cancelSessions ? "cancelling" : "draining"}: ${atStart} session${atStart === 1 ? "" : "s"} in flight`,
    },
    true,
  );
  await watchShutdown(ops, action, worker, ops.clock.now());
}

/**
 * Follows an acknowledged shutdown until the worker exits (success) or the
 * drain timeout passes (failure). Also what a restarted gateway resumes.
 */
export async function watchShutdown(
  ops: ActionOps,
  action: Action,
  worker: TrackedWorker,
  startedMs: number,
): Promise<void> {
  const cancelSessions = action.kind === ActionKind.CANCEL_WORKER;
  const verb = cancelSessions ? "cancel" : "drain";
  const atStart = action.sessionsAtStart;
  ops.fleet.draining(
    worker,
    ops.clock.now(),
    `${verb} requested by ${action.actor}: ${action.reason}`,
  );
  while (ops.clock.now() - startedMs < ops.drainTimeoutMs) {
    if (action.status !== ActionStatus.RUNNING) return;
    await sleep(ops.clock, PROGRESS_POLL_MS);
    const remaining = Number(worker.metrics.active_sessions ?? 0) || 0;
    if (remaining !== action.sessionsRemaining && worker.liveness.current.state === "draining") {
      await ops.update(action, {
        sessionsRemaining: remaining,
        outcome: `${cancelSessions ? "cancelling" : "draining"}: ${remaining} of ${atStart} sessions left`,
      });
    }
    if (worker.liveness.current.state === "exited") {
      const took = formatDuration(ops.clock.now() - startedMs);
      action.sessionsRemaining = 0;
      await ops.finish(
        action,
        ActionStatus.SUCCEEDED,
        cancelSessions
          ? `cancelled: ${atStart} session${atStart === 1 ? "" : "s"} aborted, worker exited after ${took}`
          : `drained: ${atStart} session${atStart === 1 ? "" : "s"} finished in ${took}, worker exited`,
      );
      return;
    }
    const running = ops.clock.now() - startedMs;
    if (cancelSessions && running >= ops.cancelKillAfterMs && canKillThroughAgent(ops, worker)) {
      // Acknowledged, yet still running: a session's thread in native code
      // ignores the cancel, so the worker never exits; its agent can end it.
      const stuck = `the worker acknowledged the shutdown but was still running ${formatDuration(running)} later`;
      await killThroughAgent(ops, action, worker, stuck, atStart);
      return;
    }
  }
  await ops.finish(
    action,
    ActionStatus.FAILED,
    `failed: worker still running ${formatDuration(ops.drainTimeoutMs)} after the ${verb} request`,
  );
}
