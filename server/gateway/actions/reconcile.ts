import { SessionOutcome } from "../../../gen/stallwatch/v1/agent_pb.js";
import { ActionKind, ActionStatus, type Action } from "../../../gen/stallwatch/v1/control_pb.js";
import { sleep, type Clock } from "../../shared/clock/clock.js";
import { stateName } from "../../shared/words/session-words.js";
import { formatDuration } from "../../shared/words/durations.js";
import type { ActionStore } from "../store/action-store.js";
import { watchShutdown, type ActionOps } from "./action-steps.js";

const STATUS_DEADLINE_MS = 3000;
const HEARTBEAT_DEADLINE_MS = 2000;
const POLL_MS = 100;
/** How long after its grace a cancel may still be finishing on the worker. */
const CANCEL_SLACK_MS = 10_000;

async function waitFor<T>(
  clock: Clock,
  probe: () => T | undefined,
  timeoutMs: number,
): Promise<T | undefined> {
  const deadline = clock.monotonic() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined || clock.monotonic() >= deadline) return value;
    await sleep(clock, POLL_MS);
  }
}
const outcomeName = (outcome: SessionOutcome) =>
  (SessionOutcome[outcome] as string | undefined)?.toLowerCase() ?? "unknown";

const restarted = "the gateway restarted before this action ended";

/**
 * Settles one action a previous gateway process left RUNNING, by asking the
 * worker what became of it. Only what the worker shows is recorded as the
 * outcome; when it cannot be asked or its answer does not settle the
 * question, the action is INTERRUPTED with what is known, and an operator
 * may retry it. It never guesses success.
 */
export async function reconcileAction(
  ops: ActionOps,
  action: Action,
  waitMs: number,
): Promise<void> {
  if (action.kind === ActionKind.PROFILE)
    // A profile's samples lived in the stopped gateway's memory: nothing to resume.
    await ops.finish(
      action,
      ActionStatus.INTERRUPTED,
      `interrupted: ${restarted} while the profile was sampling; its samples were lost`,
    );
  else if (action.kind === ActionKind.CANCEL_SESSION) await reconcileCancel(ops, action, waitMs);
  else await reconcileShutdown(ops, action, waitMs);
}

async function reconcileCancel(ops: ActionOps, action: Action, waitMs: number): Promise<void> {
  const session = action.sessionId;
  const channel = await waitFor(ops.clock, () => ops.agents.get(action.workerId), waitMs);
  if (!channel) {
    await ops.finish(
      action,
      ActionStatus.INTERRUPTED,
      `interrupted: ${restarted}, and the worker's agent did not reconnect within ${formatDuration(waitMs)}; whether session ${session} was cancelled is unknown`,
    );
    return;
  }
  // A cancel the worker is still carrying out may need its whole grace.
  const graceMs = action.graceMs || ops.defaultGraceMs;
  const settleBy = Math.max(
    ops.clock.now(),
    Number(action.startedAtMs) + graceMs + CANCEL_SLACK_MS,
  );
  for (;;) {
    let report;
    try {
      report = await channel.requestStatus(
        { includeThreads: false, maxFinished: 100 },
        STATUS_DEADLINE_MS,
      );
    } catch (err) {
      await ops.finish(
        action,
        ActionStatus.INTERRUPTED,
        `interrupted: ${restarted}, and the worker did not answer a status request (${(err as Error).message}); whether session ${session} was cancelled is unknown`,
      );
      return;
    }
    const ended = report.finished.find((f) => f.sessionId === session);
    if (ended) {
      const outcome =
        ended.outcome === SessionOutcome.CANCELLED
          ? `cancelled: the worker reports session ${session} cancelled (confirmed after a gateway restart)`
          : `nothing to do: session ${session} ended by itself (${outcomeName(ended.outcome)}; confirmed after a gateway restart)`;
      await ops.finish(action, ActionStatus.SUCCEEDED, outcome);
      return;
    }
    const live = report.sessions.find((s) => s.sessionId === session);
    if (!live) {
      await ops.finish(
        action,
        ActionStatus.INTERRUPTED,
        `interrupted: ${restarted}; the worker no longer reports session ${session}, neither running nor among its recently finished sessions, so whether the cancel took effect is unknown`,
      );
      return;
    }
    if (ops.clock.now() >= settleBy) {
      await ops.finish(
        action,
        ActionStatus.INTERRUPTED,
        `interrupted: ${restarted}; session ${session} is still running on the worker (${stateName(live.state)}) ${formatDuration(ops.clock.now() - Number(action.startedAtMs))} after the cancel was asked for`,
      );
      return;
    }
    await ops.update(action, {
      outcome: `reconciling: session ${session} still ${stateName(live.state)} on the worker after a gateway restart`,
    });
    await sleep(ops.clock, 500);
  }
}

async function reconcileShutdown(ops: ActionOps, action: Action, waitMs: number): Promise<void> {
  const verb = action.kind === ActionKind.CANCEL_WORKER ? "cancel" : "drain";
  const client = await waitFor(ops.clock, () => ops.prober.clientFor(action.workerId), waitMs);
  if (!client) {
    await ops.finish(
      action,
      ActionStatus.INTERRUPTED,
      `interrupted: ${restarted}, and the worker did not reappear within ${formatDuration(waitMs)}; whether the ${verb} completed is unknown`,
    );
    return;
  }
  const beat = await client.heartbeat(HEARTBEAT_DEADLINE_MS);
  const acked = action.workerAcknowledged;
  if (!beat.ok) {
    if (acked && beat.kind === "connection") {
      await ops.finish(
        action,
        ActionStatus.SUCCEEDED,
        `${verb === "drain" ? "drained" : "cancelled"}: the worker accepted the ${verb} and has exited (its Manage address refuses connections; confirmed after a gateway restart)`,
      );
      return;
    }
    await ops.finish(
      action,
      ActionStatus.INTERRUPTED,
      `interrupted: ${restarted}; the worker ${beat.kind === "connection" ? "is gone" : "does not answer"} (${beat.reason}) and ${acked ? "had accepted" : "had not yet confirmed"} the ${verb}, so whether it completed is unknown`,
    );
    return;
  }
  const uptimeMs = Number(beat.value.uptime_ms);
  const ageMs = ops.clock.now() - Number(action.startedAtMs);
  if (Number.isFinite(uptimeMs) && uptimeMs < ageMs) {
    await ops.finish(
      action,
      ActionStatus.INTERRUPTED,
      `interrupted: ${restarted}; a new worker process (up ${formatDuration(uptimeMs)}) answers at the address, so whether the old one completed the ${verb} is unknown`,
    );
    return;
  }
  if (!acked) {
    await ops.finish(
      action,
      ActionStatus.INTERRUPTED,
      `interrupted: ${restarted} and before the worker confirmed the ${verb}; the worker is still running`,
    );
    return;
  }
  // The same process accepted the shutdown and is still at it: go on watching.
  const worker = ops.fleet.get(action.workerId);
  if (!worker) {
    await ops.finish(
      action,
      ActionStatus.INTERRUPTED,
      `interrupted: ${restarted}; the worker left the fleet`,
    );
    return;
  }
  await ops.update(action, {
    outcome: `${verb === "drain" ? "draining" : "cancelling"}: resumed after a gateway restart`,
  });
  await watchShutdown(ops, action, worker, Number(action.startedAtMs));
}

/**
 * Settles every action a previous process left RUNNING, each as
 * {@link reconcileAction} says, waiting up to `waitMs` for each worker to
 * come back; `adopt` makes each one the runner's again (watchers can follow
 * it). Resolves with how many there were once all are settled.
 */
export async function reconcileLeftovers(
  ops: ActionOps,
  store: Pick<ActionStore, "listUnfinishedActions">,
  waitMs: number,
  adopt: (action: Action) => void,
): Promise<{ count: number; tookMs: number }> {
  const started = ops.clock.monotonic();
  const left = await store.listUnfinishedActions();
  if (left.length === 0) {
    ops.log.info({ count: 0, tookMs: 0 }, "actions reconciled");
    return { count: 0, tookMs: 0 };
  }
  ops.log.warn(
    { count: left.length, actions: left.slice(0, 20).map((a) => a.actionId) },
    "reconciling actions a previous gateway process left running",
  );
  for (const action of left) {
    action.reconciled = true;
    adopt(action);
  }
  await Promise.all(
    left.map((action) =>
      reconcileAction(ops, action, waitMs).catch((err: unknown) =>
        ops.finish(
          action,
          ActionStatus.INTERRUPTED,
          `interrupted: ${restarted}, and reconciling it failed (${(err as Error).message})`,
        ),
      ),
    ),
  );
  const tookMs = Math.round(ops.clock.monotonic() - started);
  const byStatus: Record<string, number> = {};
  for (const a of left)
    byStatus[ActionStatus[a.status]] = (byStatus[ActionStatus[a.status]] ?? 0) + 1;
  ops.log.info({ count: left.length, tookMs, byStatus }, "actions reconciled");
  return { count: left.length, tookMs };
}
