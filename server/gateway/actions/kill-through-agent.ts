import { create } from "@bufbuild/protobuf";
import { CommandOutcome, KillWorkerSchema } from "../../../gen/stallwatch/v1/agent_pb.js";
import { ActionStatus, type Action } from "../../../gen/stallwatch/v1/control_pb.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import type { ActionOps } from "./action-ops.js";

/** The capability an agent announces when it can end its worker process by signal. */
export const KILL_WORKER_CAPABILITY = "kill-worker";
/** Time between the agent's SIGTERM and its SIGKILL. */
const KILL_GRACE_MS = 2000;
/** What the agent may take beyond the grace to report (waiting for the process to go). */
const KILL_REPORT_SLACK_MS = 10_000;

/** True when the worker's agent can end the worker process itself. */
export function canKillThroughAgent(
  ops: Pick<ActionOps, "agents">,
  worker: TrackedWorker,
): boolean {
  const capabilities = worker.agent?.announce.capabilities ?? [];
  return capabilities.includes(KILL_WORKER_CAPABILITY) && ops.agents.has(worker.id);
}

/**
 * The second step of a cancel-worker whose `Manage` shutdown went
 * unanswered, or was acknowledged but left the worker running: a worker that
 * cannot run its own code (a Python worker whose GIL native code holds)
 * cannot answer, and one whose session's thread is stuck in native code
 * cannot end that session, but its agent may run beside it (the Python
 * agent's helper process holds the agent stream). `stuck` says which, in
 * words the outcome repeats. The agent sends
 * SIGTERM, then SIGKILL, and says which ended the process and after how
 * long; the action's outcome repeats it word for word, so a kill is never
 * reported as a clean exit, nor one that did not happen as done.
 */
export async function killThroughAgent(
  ops: ActionOps,
  action: Action,
  worker: TrackedWorker,
  stuck: string,
  sessionsAtStart: number,
): Promise<void> {
  const channel = ops.agents.get(worker.id);
  if (!channel) {
    await ops.finish(action, ActionStatus.FAILED, `failed: ${stuck}, and its agent disconnected`);
    return;
  }
  await ops.update(
    action,
    {
      outcome: `${stuck}; its agent is ending the process`,
    },
    true,
  );
  let message: string;
  let outcome: CommandOutcome;
  try {
    const result = await channel.killWorker(
      create(KillWorkerSchema, {
        reason: `${action.actor}: ${action.reason}`,
        graceMs: KILL_GRACE_MS,
      }),
      KILL_GRACE_MS + KILL_REPORT_SLACK_MS,
    );
    message = result.message;
    outcome = result.outcome;
  } catch (err) {
    await ops.finish(
      action,
      ActionStatus.FAILED,
      `failed: ${stuck}, and its agent did not report a kill (${(err as Error).message})`,
    );
    return;
  }
  if (outcome !== CommandOutcome.PROCESS_KILLED) {
    await ops.finish(
      action,
      ActionStatus.FAILED,
      `failed: ${stuck}, and its agent could not end it: ${message || "no reason given"}`,
    );
    return;
  }
  action.sessionsRemaining = 0;
  const sessions = `${sessionsAtStart} session${sessionsAtStart === 1 ? "" : "s"}`;
  await ops.finish(
    action,
    ActionStatus.SUCCEEDED,
    `cancelled: ${sessions} aborted; ${message} (${stuck})`,
  );
}
