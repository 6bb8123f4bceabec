import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ActionKind,
  ActionSchema,
  ActionStatus,
  type Action,
} from "../../../gen/stallwatch/v1/control_pb.js";
import type { AgentChannels } from "../agent-endpoint/agent-service.js";
import type { Caller } from "../auth/caller.js";
import type { EventLog } from "../events/event-log.js";
import type { Fleet } from "../fleet/fleet.js";
import type { FleetWorker } from "../fleet/fleet-worker.js";
import { systemClock, type Clock } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import {
  cancelSession,
  shutdownWorker,
  type ActionOps,
  type ManageClients,
} from "./action-steps.js";
import type { ActionStore } from "../store/action-store.js";
import { ACTION_ID, validateRequest, type ActionRequest } from "./action-request.js";
import { reconcileAction } from "./reconcile.js";

export interface ActionRunnerDeps {
  fleet: Fleet;
  /** Manage clients for shutdowns: the heartbeat prober. */
  prober: ManageClients;
  agents: AgentChannels;
  events: EventLog;
  store: ActionStore;
  log: Logger;
  clock?: Clock;
  /** Grace before a non-yielding UDF's thread is terminated (default 2 s). */
  defaultGraceMs?: number;
  /** How long a drain may take before the action is reported failed (default 30 min). */
  drainTimeoutMs?: number;
  /** Called when an action ends (for /metrics). */
  onEnded?: (action: Action) => void;
}

/**
 * Runs operator actions. Each is validated, committed (action and audit
 * record in one transaction) before it is acknowledged, carried out in the
 * background with deadlines, and ends with an outcome a person can read;
 * every status change commits action and audit together. Repeating an action
 * id returns the same action instead of acting twice. Actions a previous
 * process left RUNNING are settled by `reconcile()`.
 */
export class ActionRunner {
  private readonly listeners = new Map<string, Set<(action: Action) => void>>();
  private readonly running = new Map<string, Action>();
  private readonly starting = new Map<string, Promise<Action>>();
  /** Actions whose end is being committed: the first outcome wins. */
  private readonly finishing = new WeakSet<Action>();
  private readonly ops: ActionOps;
  private readonly clock: Clock;

  constructor(private readonly deps: ActionRunnerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.ops = {
      fleet: deps.fleet,
      prober: deps.prober,
      agents: deps.agents,
      log: deps.log,
      clock: this.clock,
      defaultGraceMs: deps.defaultGraceMs ?? 2000,
      drainTimeoutMs: deps.drainTimeoutMs ?? 30 * 60_000,
      finish: (action, status, outcome) => this.finish(action, status, outcome),
      update: async (action, patch, durable) => {
        Object.assign(action, patch);
        if (durable) await this.deps.store.saveAction(action);
        this.notify(action);
      },
    };
  }

  async start(kind: ActionKind, request: ActionRequest, caller: Caller): Promise<Action> {
    validateRequest(kind, request);
    return this.once(request.actionId, () => this.startNew(kind, request, caller));
  }

  private async startNew(
    kind: ActionKind,
    request: ActionRequest,
    caller: Caller,
  ): Promise<Action> {
    const existing = await this.get(request.actionId);
    if (existing) {
      if (
        existing.kind !== kind ||
        existing.workerId !== request.workerId ||
        existing.sessionId !== (request.sessionId ?? "") ||
        existing.retryOf !== ""
      ) {
        throw new ConnectError(
          `action id "${request.actionId}" was already used for another action`,
          Code.AlreadyExists,
        );
      }
      return existing;
    }
    return this.begin(kind, request, caller);
  }

  /** Resumes an INTERRUPTED action under a new id linked to the old one. */
  async retry(actionId: string, retryOf: string, reason: string, caller: Caller): Promise<Action> {
    if (!ACTION_ID.test(actionId))
      throw new ConnectError(
        "action_id must be 1-100 letters, digits, _ or -",
        Code.InvalidArgument,
      );
    return this.once(actionId, () => this.retryNew(actionId, retryOf, reason, caller));
  }

  /**
   * Requests that reuse an action id while its first request is still being
   * committed wait for that request, then see its action: reading and
   * inserting are no longer one synchronous step, so this keeps "repeating
   * an action id never acts twice".
   */
  private async once(actionId: string, fn: () => Promise<Action>): Promise<Action> {
    const pending = this.starting.get(actionId);
    if (pending) await pending.catch(() => {});
    const p = fn();
    this.starting.set(actionId, p);
    try {
      return await p;
    } finally {
      if (this.starting.get(actionId) === p) this.starting.delete(actionId);
    }
  }

  private async retryNew(
    actionId: string,
    retryOf: string,
    reason: string,
    caller: Caller,
  ): Promise<Action> {
    const existing = await this.get(actionId);
    if (existing) {
      if (existing.retryOf !== retryOf)
        throw new ConnectError(
          `action id "${actionId}" was already used for another action`,
          Code.AlreadyExists,
        );
      return existing;
    }
    const old = await this.get(retryOf);
    if (!old) throw new ConnectError(`no action "${retryOf.slice(0, 100)}"`, Code.NotFound);
    if (old.status !== ActionStatus.INTERRUPTED) {
      throw new ConnectError(
        `only an interrupted action can be retried; ${old.actionId} is ${ActionStatus[old.status].toLowerCase()}`,
        Code.FailedPrecondition,
      );
    }
    if (old.retriedBy) {
      throw new ConnectError(
        `${old.actionId} was already retried as ${old.retriedBy}`,
        Code.FailedPrecondition,
      );
    }
    const request: ActionRequest = {
      actionId,
      workerId: old.workerId,
      reason: reason.trim() || old.reason,
      ...(old.sessionId ? { sessionId: old.sessionId } : {}),
      ...(old.graceMs ? { graceMs: old.graceMs } : {}),
    };
    validateRequest(old.kind, request);
    return this.begin(old.kind, request, caller, old);
  }

  async get(actionId: string): Promise<Action | undefined> {
    return this.running.get(actionId) ?? (await this.deps.store.getAction(actionId));
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

  /**
   * Settles every action a previous process left RUNNING (see reconcile.ts),
   * waiting up to `waitMs` for each worker to come back. Resolves with how
   * many there were once all are settled.
   */
  async reconcile(waitMs: number): Promise<{ count: number; tookMs: number }> {
    const started = this.clock.monotonic();
    const left = await this.deps.store.listUnfinishedActions();
    if (left.length === 0) {
      this.deps.log.info({ count: 0, tookMs: 0 }, "actions reconciled");
      return { count: 0, tookMs: 0 };
    }
    this.deps.log.warn(
      { count: left.length, actions: left.slice(0, 20).map((a) => a.actionId) },
      "reconciling actions a previous gateway process left running",
    );
    for (const action of left) {
      action.reconciled = true;
      this.running.set(action.actionId, action);
    }
    await Promise.all(
      left.map((action) =>
        reconcileAction(this.ops, action, waitMs).catch((err: unknown) =>
          this.finish(
            action,
            ActionStatus.INTERRUPTED,
            `interrupted: the gateway restarted before this action ended, and reconciling it failed (${(err as Error).message})`,
          ),
        ),
      ),
    );
    const tookMs = Math.round(this.clock.monotonic() - started);
    const byStatus: Record<string, number> = {};
    for (const a of left)
      byStatus[ActionStatus[a.status]] = (byStatus[ActionStatus[a.status]] ?? 0) + 1;
    this.deps.log.info({ count: left.length, tookMs, byStatus }, "actions reconciled");
    return { count: left.length, tookMs };
  }

  private async begin(
    kind: ActionKind,
    request: ActionRequest,
    caller: Caller,
    retryOf?: Action,
  ): Promise<Action> {
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
      reason: request.reason.trim(),
      actor: caller.actor,
      status: ActionStatus.RUNNING,
      outcome: retryOf ? `started: retry of ${retryOf.actionId}` : "started",
      startedAtMs: BigInt(this.clock.now()),
      auditId: randomUUID(),
      graceMs: request.graceMs ?? 0,
      retryOf: retryOf?.actionId ?? "",
    });
    // Committed before acknowledged: action, audit record and the old
    // action's link to its retry in one transaction.
    const linked = retryOf ? [{ ...retryOf, retriedBy: action.actionId }] : [];
    await this.deps.store.createAction(action, linked);
    if (retryOf) {
      retryOf.retriedBy = action.actionId;
      this.notify(retryOf);
    }
    this.running.set(action.actionId, action);
    this.deps.log.info(
      {
        action: action.actionId,
        kind: ActionKind[kind],
        worker: worker.id,
        session: action.sessionId,
        actor: action.actor,
        reason: action.reason,
        retryOf: action.retryOf || undefined,
      },
      "action started",
    );
    const carryOut =
      kind === ActionKind.CANCEL_SESSION
        ? cancelSession(this.ops, action)
        : shutdownWorker(this.ops, action, worker);
    void carryOut.catch((err: unknown) =>
      this.finish(action, ActionStatus.FAILED, `failed: ${(err as Error).message}`),
    );
    return action;
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

  private async finish(action: Action, status: ActionStatus, outcome: string): Promise<void> {
    if (action.status !== ActionStatus.RUNNING || this.finishing.has(action)) return;
    this.finishing.add(action);
    const ended = { ...action, status, outcome, endedAtMs: BigInt(this.clock.now()) };
    try {
      // A failed commit leaves the stored action RUNNING, for the next
      // process to reconcile; watchers keep seeing what is durable.
      await this.deps.store.saveAction(ended);
    } catch (err) {
      this.finishing.delete(action);
      this.running.delete(action.actionId);
      this.deps.log.error(
        { action: action.actionId, err: (err as Error).message },
        "action outcome could not be recorded",
      );
      return;
    }
    Object.assign(action, ended);
    this.finishing.delete(action);
    this.running.delete(action.actionId);
    this.deps.events.record({
      workerId: action.workerId,
      kind: "action",
      sessionId: action.sessionId,
      summary: `${ActionKind[action.kind].toLowerCase().replace("_", " ")} by ${action.actor}: ${outcome}`,
    });
    this.deps.log.info(
      {
        action: action.actionId,
        status: ActionStatus[status],
        outcome,
        reconciled: action.reconciled,
      },
      "action ended",
    );
    this.deps.onEnded?.(action);
    this.notify(action);
  }

  private notify(action: Action): void {
    for (const listener of this.listeners.get(action.actionId) ?? []) listener(action);
  }
}
