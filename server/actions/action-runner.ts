import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { CancelSessionSchema, CommandOutcome } from "../../gen/stallwatch/v1/agent_pb.js";
import {
  ActionKind,
  ActionSchema,
  ActionStatus,
  AuditRecordSchema,
  type Action,
} from "../../gen/stallwatch/v1/control_pb.js";
import { ShutdownRequestSchema } from "../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import type { AgentChannels } from "../agents/agent-service.js";
import type { Caller } from "../auth/caller.js";
import type { EventLog } from "../events/event-log.js";
import type { Fleet } from "../fleet/fleet.js";
import type { FleetWorker } from "../fleet/fleet-worker.js";
import type { HeartbeatProber } from "../heartbeats/heartbeat-prober.js";
import type { Logger } from "../logging/logger.js";
import { formatDuration } from "../stalls/stall-rules.js";
import type { ActionStore } from "./action-store.js";

export interface ActionRunnerDeps {
  fleet: Fleet;
  prober: HeartbeatProber;
  agents: AgentChannels;
  events: EventLog;
  store: ActionStore;
  log: Logger;
  /** Grace before a non-yielding UDF's thread is terminated (default 2 s). */
  defaultGraceMs?: number;
  /** How long a drain may take before the action is reported failed (default 30 min). */
  drainTimeoutMs?: number;
  /** Called when an action ends (for /metrics). */
  onEnded?: (action: Action) => void;
}

export interface ActionRequest {
  actionId: string;
  workerId: string;
  sessionId?: string;
  reason: string;
  graceMs?: number;
}

const ACTION_ID = /^[\w-]{1,100}$/;
const SHUTDOWN_DEADLINE_MS = 5000;
const PROGRESS_POLL_MS = 500;

/**
 * Runs operator actions. Each is validated, recorded durably (action and
 * audit record) before it is acknowledged, carried out in the background with
 * deadlines, and ends with an outcome a person can read. Repeating an action
 * id returns the same action instead of acting twice.
 */
export class ActionRunner {
  private readonly listeners = new Map<string, Set<(action: Action) => void>>();
  private readonly running = new Map<string, Action>();

  constructor(private readonly deps: ActionRunnerDeps) {}

  start(kind: ActionKind, request: ActionRequest, caller: Caller): Action {
    validate(kind, request);
    const existing =
      this.running.get(request.actionId) ?? this.deps.store.getAction(request.actionId);
    if (existing) {
      if (
        existing.kind !== kind ||
        existing.workerId !== request.workerId ||
        existing.sessionId !== (request.sessionId ?? "")
      ) {
        throw new ConnectError(
          `action id "${request.actionId}" was already used for another action`,
          Code.AlreadyExists,
        );
      }
      return existing;
    }
    const worker = this.deps.fleet.get(request.workerId);
    if (!worker)
      throw new ConnectError(
        `no worker "${request.workerId.slice(0, 200)}" in the fleet`,
        Code.NotFound,
      );
    this.checkReachablePath(kind, worker);

    const action = create(ActionSchema, {
      actionId: request.actionId,
      kind,
      workerId: worker.id,
      sessionId: request.sessionId ?? "",
      reason: request.reason,
      actor: caller.actor,
      status: ActionStatus.RUNNING,
      outcome: "started",
      startedAtMs: BigInt(Date.now()),
      auditId: randomUUID(),
    });
    // Durable before acknowledged.
    this.deps.store.putAction(action);
    this.deps.store.appendAudit(
      create(AuditRecordSchema, {
        id: action.auditId,
        atMs: action.startedAtMs,
        actor: action.actor,
        kind,
        workerId: action.workerId,
        sessionId: action.sessionId,
        reason: action.reason,
        result: ActionStatus.RUNNING,
        outcome: action.outcome,
        actionId: action.actionId,
      }),
    );
    this.running.set(action.actionId, action);
    this.deps.log.info(
      {
        action: action.actionId,
        kind: ActionKind[kind],
        worker: worker.id,
        session: action.sessionId,
        actor: action.actor,
        reason: action.reason,
      },
      "action started",
    );
    void this.carryOut(action, worker, request).catch((err: unknown) =>
      this.finish(action, ActionStatus.FAILED, `failed: ${(err as Error).message}`),
    );
    return action;
  }

  get(actionId: string): Action | undefined {
    return this.running.get(actionId) ?? this.deps.store.getAction(actionId);
  }

  /** Calls `listener` on every change of the action until unsubscribed. */
  subscribe(actionId: string, listener: (action: Action) => void): () => void {
    let set = this.listeners.get(actionId);
    if (!set) {
      set = new Set();
      this.listeners.set(actionId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(actionId);
    };
  }

  private checkReachablePath(kind: ActionKind, worker: FleetWorker): void {
    if (kind === ActionKind.CANCEL_SESSION && !this.deps.agents.has(worker.id)) {
      throw new ConnectError(
        `worker ${worker.id} has no agent connection, so one session cannot be cancelled; cancel the worker instead`,
        Code.FailedPrecondition,
      );
    }
    if (kind !== ActionKind.CANCEL_SESSION && !this.deps.prober.clientFor(worker.id)) {
      throw new ConnectError(
        `worker ${worker.id} has no Manage endpoint to send a shutdown to`,
        Code.FailedPrecondition,
      );
    }
  }

  private async carryOut(
    action: Action,
    worker: FleetWorker,
    request: ActionRequest,
  ): Promise<void> {
    if (action.kind === ActionKind.CANCEL_SESSION)
      await this.cancelSession(action, worker, request);
    else await this.shutdown(action, worker, action.kind === ActionKind.CANCEL_WORKER);
  }

  private async cancelSession(
    action: Action,
    worker: FleetWorker,
    request: ActionRequest,
  ): Promise<void> {
    const channel = this.deps.agents.get(worker.id);
    if (!channel) {
      this.finish(action, ActionStatus.FAILED, "failed: the worker's agent disconnected");
      return;
    }
    const graceMs = request.graceMs || this.deps.defaultGraceMs || 2000;
    const result = await channel.cancelSession(
      create(CancelSessionSchema, { sessionId: action.sessionId, reason: action.reason, graceMs }),
      graceMs + 10_000,
    );
    const took = formatDuration(Number(result.tookMs));
    switch (result.outcome) {
      case CommandOutcome.CANCELLED_COOPERATIVELY:
        this.finish(action, ActionStatus.SUCCEEDED, `cancelled: user code yielded within ${took}`);
        break;
      case CommandOutcome.THREAD_TERMINATED:
        this.finish(
          action,
          ActionStatus.SUCCEEDED,
          `cancel escalated: thread terminated after ${took}`,
        );
        break;
      case CommandOutcome.ALREADY_ENDED:
        this.finish(action, ActionStatus.SUCCEEDED, "nothing to do: the session had already ended");
        break;
      case CommandOutcome.NOT_FOUND:
        this.finish(
          action,
          ActionStatus.FAILED,
          `failed: no session ${action.sessionId} on the worker`,
        );
        break;
      default:
        this.finish(
          action,
          ActionStatus.FAILED,
          `failed: ${result.message || "the worker could not cancel the session"}`,
        );
    }
  }

  private async shutdown(
    action: Action,
    worker: FleetWorker,
    cancelSessions: boolean,
  ): Promise<void> {
    const client = this.deps.prober.clientFor(worker.id);
    if (!client) {
      this.finish(action, ActionStatus.FAILED, "failed: the worker has no Manage endpoint");
      return;
    }
    const atStart = Number(worker.metrics.active_sessions ?? worker.status.sessions.length) || 0;
    action.sessionsAtStart = atStart;
    action.sessionsRemaining = atStart;
    const started = Date.now();
    const result = await client.shutdown(
      create(ShutdownRequestSchema, {
        reason: `${action.actor}: ${action.reason}`,
        cancelSessions,
      }),
      SHUTDOWN_DEADLINE_MS,
    );
    if (!result.ok) {
      this.finish(action, ActionStatus.FAILED, `failed: worker unreachable (${result.reason})`);
      return;
    }
    const verb = cancelSessions ? "cancel" : "drain";
    const change = worker.liveness.draining(
      Date.now(),
      `${verb} requested by ${action.actor}: ${action.reason}`,
    );
    this.deps.fleet.changed(worker.id);
    if (change) this.deps.log.info({ worker: worker.id, to: change.to }, "liveness changed");
    this.update(action, {
      outcome: `${cancelSessions ? "cancelling" : "draining"}: ${atStart} session${atStart === 1 ? "" : "s"} in flight`,
    });

    const timeoutMs = this.deps.drainTimeoutMs ?? 30 * 60_000;
    while (Date.now() - started < timeoutMs) {
      await new Promise((r) => setTimeout(r, PROGRESS_POLL_MS));
      const remaining = Number(worker.metrics.active_sessions ?? 0) || 0;
      if (remaining !== action.sessionsRemaining && worker.liveness.current.state === "draining") {
        this.update(action, {
          sessionsRemaining: remaining,
          outcome: `${cancelSessions ? "cancelling" : "draining"}: ${remaining} of ${atStart} sessions left`,
        });
      }
      if (worker.liveness.current.state === "exited") {
        const took = formatDuration(Date.now() - started);
        action.sessionsRemaining = 0;
        this.finish(
          action,
          ActionStatus.SUCCEEDED,
          cancelSessions
            ? `cancelled: ${atStart} session${atStart === 1 ? "" : "s"} aborted, worker exited after ${took}`
            : `drained: ${atStart} session${atStart === 1 ? "" : "s"} finished in ${took}, worker exited`,
        );
        return;
      }
    }
    this.finish(
      action,
      ActionStatus.FAILED,
      `failed: worker still running ${formatDuration(timeoutMs)} after the ${verb} request`,
    );
  }

  private update(
    action: Action,
    patch: Partial<Pick<Action, "outcome" | "sessionsRemaining">>,
  ): void {
    Object.assign(action, patch);
    this.notify(action);
  }

  private finish(action: Action, status: ActionStatus, outcome: string): void {
    if (action.status !== ActionStatus.RUNNING) return;
    action.status = status;
    action.outcome = outcome;
    action.endedAtMs = BigInt(Date.now());
    try {
      this.deps.store.putAction(action);
      this.deps.store.updateAudit(action.auditId, { result: status, outcome });
    } finally {
      this.running.delete(action.actionId);
      this.deps.events.record({
        workerId: action.workerId,
        kind: "action",
        sessionId: action.sessionId,
        summary: `${ActionKind[action.kind].toLowerCase().replace("_", " ")} by ${action.actor}: ${outcome}`,
      });
      this.deps.log.info(
        { action: action.actionId, status: ActionStatus[status], outcome },
        "action ended",
      );
      this.deps.onEnded?.(action);
      this.notify(action);
    }
  }

  private notify(action: Action): void {
    for (const listener of this.listeners.get(action.actionId) ?? []) listener(action);
  }
}

function validate(kind: ActionKind, request: ActionRequest): void {
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
  if (request.graceMs !== undefined && request.graceMs > 600_000) {
    throw new ConnectError("grace_ms must be at most 600000", Code.InvalidArgument);
  }
}
