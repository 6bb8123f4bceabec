import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  ActionKind,
  ActionSchema,
  ActionStatus,
  type Action,
} from "../../../gen/stallwatch/v1/control_pb.js";
import type { AgentChannels } from "../agent-endpoint/agent-options.js";
import type { Caller } from "../auth/caller.js";
import type { EventLog } from "../events/event-log.js";
import type { Fleet } from "../fleet/fleet.js";
import type { Clock } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import {
  cancelSession,
  checkReachable,
  describe,
  shutdownWorker,
  type ActionOps,
  type ManageClients,
} from "./action-steps.js";
import type { ActionStore } from "../store/action-store.js";
import { ACTION_ID, retryRequest, validateRequest, type ActionRequest } from "./action-request.js";
import { OncePerId } from "./once-per-id.js";
import { reconcileLeftovers } from "./reconcile.js";

/** What runs a profile action: samples, then ends it through `finish`. */
export interface ProfileExecutor {
  run(
    action: Action,
    finish: (status: ActionStatus, outcome: string) => Promise<void>,
  ): Promise<void>;
}

export interface ActionRunnerDeps {
  fleet: Fleet;
  /** Manage clients for shutdowns: the heartbeat prober. */
  prober: ManageClients;
  agents: AgentChannels;
  events: EventLog;
  store: ActionStore;
  log: Logger;
  clock: Clock;
  /** Grace before a non-yielding UDF's thread is terminated (default 2 s). */
  defaultGraceMs?: number;
  /** How long a drain may take before the action is reported failed (default 30 min). */
  drainTimeoutMs?: number;
  /**
   * How long an acknowledged cancel-worker may leave the worker running before
   * an agent that announces kill-worker ends the process (default 30 s).
   */
  cancelKillAfterMs?: number;
  /** Carries out ACTION_KIND_PROFILE actions (server/gateway/profiles); absent = refused. */
  profiles?: ProfileExecutor;
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
  private readonly starting = new OncePerId<Action>();
  /** Actions whose end is being committed: the first outcome wins. */
  private readonly finishing = new WeakSet<Action>();
  private readonly ops: ActionOps;
  private readonly clock: Clock;

  constructor(private readonly deps: ActionRunnerDeps) {
    this.clock = deps.clock;
    this.ops = {
      fleet: deps.fleet,
      prober: deps.prober,
      agents: deps.agents,
      log: deps.log,
      clock: this.clock,
      defaultGraceMs: deps.defaultGraceMs ?? 2000,
      drainTimeoutMs: deps.drainTimeoutMs ?? 30 * 60_000,
      cancelKillAfterMs: deps.cancelKillAfterMs ?? 30_000,
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
    return this.starting.run(request.actionId, () => this.startNew(kind, request, caller));
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
    return this.starting.run(actionId, () => this.retryNew(actionId, retryOf, reason, caller));
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
    const { old, ...request } = retryRequest(await this.get(retryOf), retryOf, actionId, reason);
    validateRequest(old.kind, request);
    return this.begin(old.kind, request, caller, old);
  }

  /**
   * Why `kind` could not be started on the worker now (not in the fleet, no
   * agent for a session cancel, no Manage endpoint for a shutdown), or
   * undefined when it could: what a policy's dry run checks.
   */
  whyNot(kind: ActionKind, workerId: string): string | undefined {
    if (!this.deps.fleet.get(workerId)) return `no worker "${workerId.slice(0, 200)}" in the fleet`;
    try {
      checkReachable(this.ops, kind, workerId);
      return undefined;
    } catch (err) {
      return ConnectError.from(err).rawMessage;
    }
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
  reconcile(waitMs: number): Promise<{ count: number; tookMs: number }> {
    return reconcileLeftovers(this.ops, this.deps.store, waitMs, (action) =>
      this.running.set(action.actionId, action),
    );
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
    checkReachable(this.ops, kind, worker.id);
    if (kind === ActionKind.PROFILE && !this.deps.profiles)
      throw new ConnectError("this gateway does not run profiles", Code.Unimplemented);
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
      evidence: request.evidence ?? "",
      evidenceSnapshotId: request.evidenceSnapshotId ?? "",
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
    this.deps.log.info({ ...describe(action), actor: action.actor }, "action started");
    const profiles = this.deps.profiles;
    const carryOut =
      kind === ActionKind.PROFILE && profiles
        ? profiles.run(action, (status, outcome) => this.finish(action, status, outcome))
        : kind === ActionKind.CANCEL_SESSION
          ? cancelSession(this.ops, action)
          : shutdownWorker(this.ops, action, worker);
    void carryOut.catch((err: unknown) =>
      this.finish(action, ActionStatus.FAILED, `failed: ${(err as Error).message}`),
    );
    return action;
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
