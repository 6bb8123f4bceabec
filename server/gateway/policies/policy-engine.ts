import { create } from "@bufbuild/protobuf";
import { ActionKind, Role, type Action } from "../../../gen/stallwatch/v1/control_pb.js";
import type { SessionView } from "../../../gen/stallwatch/v1/fleet_pb.js";
import {
  PolicyDecisionSchema,
  PolicyMode,
  PolicyOutcome,
  type DryRunOverride,
  type PolicyDecision,
} from "../../../gen/stallwatch/v1/policy_pb.js";
import type { Clock, Timer } from "../../shared/clock/clock.js";
import type { Logger } from "../../shared/logging/logger.js";
import { formatDuration } from "../../shared/words/durations.js";
import type { ActionRequest } from "../actions/action-request.js";
import type { Caller } from "../auth/caller.js";
import type { EventInit } from "../events/event-log.js";
import type { FleetReader } from "../fleet/fleet-reader.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import type { PolicyStore } from "../store/policy-store.js";
import { decisionIds } from "./decision-ids.js";
import { matchSession } from "./policy-match.js";
import type { PolicyMetrics } from "./policy-metrics.js";
import { actsOnWorker, type PolicySpec } from "./policy-spec.js";

/** Sessions looked at per tick, all policies together: a huge fleet is judged in part, never stalls the loop. */
const MAX_SESSIONS_PER_TICK = 200_000;
/** New decisions per policy per tick; the rest wait for the next tick. */
const MAX_DECISIONS_PER_TICK = 50;
/** Decision ids remembered as settled, so a match that stays true costs no query per tick. */
const MAX_REMEMBERED = 20_000;
/** How long the evidence snapshot may take before the action goes ahead without it. */
const SNAPSHOT_DEADLINE_MS = 5_000;

/** Where a test may stop the process (`STALLWATCH_TEST_EXIT_AT`); product runs never set it. */
export type PolicyCrashPoint = "policy-decided";

/** What the engine acts through: the operator's action path. */
export interface PolicyActions {
  start(kind: ActionKind, request: ActionRequest, caller: Caller): Promise<Action>;
  get(actionId: string): Promise<Action | undefined>;
  /** Why `kind` could not start on the worker now, or undefined (checked in dry run). */
  whyNot(kind: ActionKind, workerId: string): string | undefined;
}

export interface PolicyEngineDeps {
  /** The policies at start; `replaceSpecs` swaps them (a reload). */
  specs: readonly PolicySpec[];
  fleet: FleetReader;
  actions: PolicyActions;
  store: PolicyStore;
  record: (event: EventInit) => void;
  metrics: PolicyMetrics;
  /** Freezes a snapshot of one worker as evidence; resolves with its id, rejects when refused. */
  takeSnapshot: (actor: string, workerId: string, note: string) => Promise<string>;
  clock: Clock;
  log: Logger;
  /** How often the fleet is judged: the status interval. */
  intervalMs: number;
  /** This gateway, recorded on its decisions ("" outside a cluster). */
  gatewayId: string;
  /** Test-only: called at a crash point (see gateway-command.ts). */
  crashAt?: (point: PolicyCrashPoint) => void;
}

interface Match {
  worker: TrackedWorker;
  view: SessionView;
  evidence: string;
}

/** A worker a policy may act on: not on its way out already. */
function actionable(worker: TrackedWorker): boolean {
  const state = worker.liveness.current.state;
  return state !== "gone" && state !== "exited" && state !== "draining";
}

/** Bounded memory of ids, oldest forgotten first. */
class RecentIds {
  private readonly ids = new Set<string>();
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > MAX_REMEMBERED) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }
}

/**
 * Judges the fleet against the configured policies every interval and acts
 * on matches the way an operator would (ActionRunner, actor `policy:<name>`,
 * a reason naming the policy, the evidence and a frozen snapshot pinned to
 * the action). Decisions are committed before anything is done, under ids
 * derived from (policy, worker, session), so a session is never acted on
 * twice, and a process that stops between deciding and acting resumes the
 * same action at restart. The cap is counted in the store, fleet-wide.
 * Only this gateway's own workers are judged (the local fleet).
 */
export class PolicyEngine {
  private timer: Timer | undefined;
  private ticking: Promise<void> | undefined;
  private readonly settled = new RecentIds();
  private readonly capAnnounced = new RecentIds();
  private override: DryRunOverride | undefined;
  /** Until the switch has been read once, nothing acts. */
  private overrideKnown = false;

  private current: readonly PolicySpec[];
  private started = false;

  constructor(private readonly deps: PolicyEngineDeps) {
    this.current = deps.specs;
  }

  /** The policies judged now. */
  get specs(): readonly PolicySpec[] {
    return this.current;
  }

  /**
   * Judges `specs` from the next tick on (a reload of the policy file). What
   * was decided stays decided: decision ids name the policy, so a policy kept
   * across the reload never acts twice on one session, and its cap counts
   * the decisions already in the store.
   */
  replaceSpecs(specs: readonly PolicySpec[]): void {
    this.current = specs;
    this.deps.metrics.keepOnly(specs.map((s) => s.name));
    const enabled = specs.some((s) => s.mode !== PolicyMode.OFF);
    if (!this.started) return;
    if (enabled && !this.timer)
      this.timer = this.deps.clock.every(this.deps.intervalMs, () => void this.tick());
    if (!enabled) this.stop();
  }

  /** Starts judging; after `resumeAfterMs`, settles decisions a previous process left unstarted. */
  start(resumeAfterMs: number): void {
    this.started = true;
    const enabled = this.current.some((s) => s.mode !== PolicyMode.OFF);
    if (!enabled) return;
    this.timer = this.deps.clock.every(this.deps.intervalMs, () => void this.tick());
    const resume = this.deps.clock.after(resumeAfterMs, () => {
      void this.resumeUnstarted().catch((err: unknown) =>
        this.deps.log.error({ err: (err as Error).message }, "resuming policy decisions failed"),
      );
    });
    const stop = this.timer;
    this.timer = {
      cancel: () => {
        stop.cancel();
        resume.cancel();
      },
    };
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** The switch as this gateway last read it. */
  get dryRunOverride(): DryRunOverride | undefined {
    return this.override;
  }

  /** Tells the engine the switch changed here (the store is read again every tick). */
  overrideChanged(override: DryRunOverride): void {
    this.override = override;
    this.overrideKnown = true;
    this.deps.metrics.override(override.on);
  }

  /** What a policy does now: its mode, or dry run under the switch. */
  effectiveMode(spec: PolicySpec): PolicyMode {
    if (spec.mode === PolicyMode.ENFORCE && (this.override?.on || !this.overrideKnown))
      return PolicyMode.DRY_RUN;
    return spec.mode;
  }

  /** One evaluation (overlapping ticks are skipped). Resolves when done; for tests. */
  tick(): Promise<void> {
    this.ticking ??= this.evaluate()
      .catch((err: unknown) =>
        this.deps.log.error({ err: (err as Error).message }, "policy evaluation failed"),
      )
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  /** Reads the switch from the store (every gateway's); unreadable holds policies in dry run. */
  private async readOverride(): Promise<void> {
    try {
      const override = await this.deps.store.getDryRunOverride();
      this.overrideKnown = true;
      this.override = override;
      this.deps.metrics.override(override?.on ?? false);
    } catch (err) {
      // Not knowing the switch, nothing enforces this tick (dry run is safe).
      this.overrideKnown = false;
      this.deps.log.warn(
        { err: (err as Error).message },
        "dry-run switch unreadable; policies held in dry run",
      );
    }
  }

  private async evaluate(): Promise<void> {
    await this.readOverride();
    const nowMs = this.deps.clock.now();
    const workers = this.deps.fleet.all().filter(actionable);
    let budget = MAX_SESSIONS_PER_TICK;
    for (const spec of this.current) {
      const mode = this.effectiveMode(spec);
      if (mode === PolicyMode.OFF) continue;
      const matches: Match[] = [];
      for (const worker of workers) {
        if (budget <= 0 || matches.length >= MAX_DECISIONS_PER_TICK) break;
        for (const view of worker.status.sessions) {
          if (--budget < 0 || matches.length >= MAX_DECISIONS_PER_TICK) break;
          const evidence = matchSession(spec.match, worker, view, nowMs);
          if (evidence === undefined) continue;
          const match = { worker, view, evidence };
          // Already decided: costs nothing, and leaves room for new matches.
          if (this.isSettled(spec, mode, match, nowMs)) continue;
          matches.push(match);
          // One decision per worker for an action on the whole worker.
          if (actsOnWorker(spec.action)) break;
        }
      }
      for (const match of matches) await this.consider(spec, mode, match, nowMs);
    }
  }

  private target(spec: PolicySpec, match: Match) {
    const workerRun = String(match.worker.agent?.announce.startedAtMs ?? 0n);
    return {
      policy: spec.name,
      workerId: match.worker.id,
      target: actsOnWorker(spec.action)
        ? `worker:${workerRun}`
        : `session:${match.view.session?.sessionId ?? ""}`,
    };
  }

  private decision(spec: PolicySpec, mode: PolicyMode, match: Match, nowMs: number, id: string) {
    return create(PolicyDecisionSchema, {
      decisionId: id,
      policy: spec.name,
      mode,
      outcome: mode === PolicyMode.ENFORCE ? PolicyOutcome.ACTED : PolicyOutcome.WOULD_ACT,
      workerId: match.worker.id,
      sessionId: match.view.session?.sessionId ?? "",
      atMs: BigInt(nowMs),
      evidence: match.evidence,
      actionId: mode === PolicyMode.ENFORCE ? id : "",
      gatewayId: this.deps.gatewayId,
    });
  }

  /** The decision ids of a match in this mode: the one that acts (or would), and the skip for this window. */
  private idsOf(spec: PolicySpec, mode: PolicyMode, match: Match, nowMs: number) {
    const ids = decisionIds(this.target(spec, match));
    const dryRun = mode === PolicyMode.DRY_RUN;
    const windowIndex = Math.floor(nowMs / spec.windowMs);
    return {
      main: dryRun ? ids.dryRun : ids.act,
      skipped: ids.skipped(windowIndex, dryRun),
      windowIndex,
    };
  }

  private isSettled(spec: PolicySpec, mode: PolicyMode, match: Match, nowMs: number): boolean {
    const ids = this.idsOf(spec, mode, match, nowMs);
    return this.settled.has(ids.main) || this.settled.has(ids.skipped);
  }

  /**
   * Records one match's decision and carries it out. Dry run goes through
   * the same cap (counting its own would-have-acted decisions), so it shows
   * exactly what enforcing would have done.
   */
  private async consider(spec: PolicySpec, mode: PolicyMode, match: Match, nowMs: number) {
    if (this.isSettled(spec, mode, match, nowMs)) return;
    const ids = this.idsOf(spec, mode, match, nowMs);
    const dryRun = mode === PolicyMode.DRY_RUN;
    const metricMode = dryRun ? "dry_run" : "enforce";
    const skipped = this.decision(spec, mode, match, nowMs, ids.skipped);
    skipped.outcome = PolicyOutcome.SKIPPED_CAP;
    skipped.actionId = "";
    skipped.detail = `cap reached: ${spec.maxActions} actions per ${formatDuration(spec.windowMs)}, fleet-wide${dryRun ? " (dry run)" : ""}`;
    const main = this.decision(spec, mode, match, nowMs, ids.main);
    // A dry run says so when the action could not have started (a Beam
    // harness has no agent to cancel one session through).
    const wouldFail = dryRun ? this.deps.actions.whyNot(spec.action, match.worker.id) : undefined;
    if (wouldFail !== undefined) {
      main.outcome = PolicyOutcome.FAILED;
      main.detail = `dry run: it would fail: ${wouldFail}`.slice(0, 500);
    }
    const { decision, fresh } = await this.deps.store.recordDecision(
      main,
      wouldFail !== undefined
        ? undefined
        : {
            maxActions: spec.maxActions,
            windowMs: spec.windowMs,
            counted: dryRun ? PolicyOutcome.WOULD_ACT : PolicyOutcome.ACTED,
            skipped,
          },
    );
    if (decision.outcome === PolicyOutcome.SKIPPED_CAP) {
      this.settled.add(ids.skipped);
      if (!fresh) return;
      this.deps.metrics.matched(spec.name, metricMode);
      this.deps.metrics.outcome(spec.name, "skipped_cap");
      const capKey = `${spec.name}\u0000${metricMode}\u0000${ids.windowIndex}`;
      if (!this.capAnnounced.has(capKey)) {
        this.capAnnounced.add(capKey);
        this.deps.metrics.capBinds(spec.name);
        this.deps.log.warn(
          { policy: spec.name, maxActions: spec.maxActions, dryRun },
          "policy cap reached: no more actions this window",
        );
      }
      this.tell(
        decision,
        "policy_cap_reached",
        `policy ${spec.name} ${dryRun ? "would not" : "did not"} ${verb(spec.action)}: ${decision.detail}; ${decision.evidence}`,
      );
      return;
    }
    if (decision.outcome === PolicyOutcome.WOULD_ACT) {
      this.settled.add(ids.main);
      if (!fresh) return;
      this.deps.metrics.matched(spec.name, "dry_run");
      this.deps.metrics.outcome(spec.name, "would_act");
      this.tell(
        decision,
        "policy_matched",
        `policy ${spec.name} would ${verb(spec.action)} (dry run): ${decision.evidence}`,
      );
      await this.pinSnapshot(spec, decision);
      return;
    }
    if (decision.outcome !== PolicyOutcome.ACTED) {
      this.settled.add(ids.main);
      if (fresh && decision.outcome === PolicyOutcome.FAILED) {
        this.deps.metrics.matched(spec.name, metricMode);
        this.deps.metrics.outcome(spec.name, "failed");
        this.tell(decision, "policy_failed", `policy ${spec.name}: ${decision.detail}`);
      }
      return;
    }
    if (fresh) {
      this.deps.metrics.matched(spec.name, "enforce");
      this.deps.crashAt?.("policy-decided");
    }
    await this.ensureStarted(spec, decision);
  }

  /**
   * Starts the decision's action unless it exists (the same id: a repeat is
   * the same action). The snapshot is best effort: a refusal is recorded as
   * the reason there is none, and the action goes ahead.
   */
  private async ensureStarted(spec: PolicySpec, decision: PolicyDecision): Promise<void> {
    if (await this.deps.actions.get(decision.actionId)) {
      this.settled.add(decision.decisionId);
      return;
    }
    const actor = `policy:${spec.name}`;
    const notes: string[] = [];
    await this.freeze(actor, decision, notes);
    try {
      await this.deps.actions.start(
        spec.action,
        {
          actionId: decision.actionId,
          workerId: decision.workerId,
          ...(spec.action === ActionKind.CANCEL_SESSION ? { sessionId: decision.sessionId } : {}),
          reason: `remediation policy ${spec.name}: ${decision.evidence}`.slice(0, 1000),
          evidence: decision.evidence,
          evidenceSnapshotId: decision.evidenceSnapshotId,
        },
        { role: Role.OPERATOR, actor, reason: "" },
      );
      this.deps.metrics.outcome(spec.name, "acted");
      this.tell(
        decision,
        "policy_acted",
        `policy ${spec.name} ${verbPast(spec.action)}: ${decision.evidence}`,
      );
    } catch (err) {
      // Another gateway (a worker changing owner) may have started it just now.
      if (await this.deps.actions.get(decision.actionId).catch(() => undefined)) {
        this.settled.add(decision.decisionId);
        return;
      }
      decision.outcome = PolicyOutcome.FAILED;
      notes.unshift(`could not ${verb(spec.action)}: ${(err as Error).message}`.slice(0, 500));
      this.deps.metrics.outcome(spec.name, "failed");
      this.tell(decision, "policy_failed", `policy ${spec.name} ${notes[0]}`);
    }
    decision.detail = notes.join("; ");
    await this.deps.store.updateDecision(decision);
    this.settled.add(decision.decisionId);
  }

  /** Pins a snapshot to a dry-run decision (best effort). */
  private async pinSnapshot(spec: PolicySpec, decision: PolicyDecision): Promise<void> {
    const notes: string[] = [];
    await this.freeze(`policy:${spec.name}`, decision, notes);
    decision.detail = notes.join("; ");
    await this.deps.store
      .updateDecision(decision)
      .catch((err: unknown) =>
        this.deps.log.warn(
          { err: (err as Error).message },
          "policy decision evidence not recorded",
        ),
      );
  }

  private async freeze(actor: string, decision: PolicyDecision, notes: string[]): Promise<void> {
    let timer: Timer | undefined;
    try {
      decision.evidenceSnapshotId = await Promise.race([
        this.deps.takeSnapshot(
          actor,
          decision.workerId,
          `${actor}: ${decision.evidence}`.slice(0, 2000),
        ),
        new Promise<never>((_, reject) => {
          timer = this.deps.clock.after(SNAPSHOT_DEADLINE_MS, () =>
            reject(new Error(`no answer within ${SNAPSHOT_DEADLINE_MS / 1000} s`)),
          );
        }),
      ]);
    } catch (err) {
      notes.push(`no evidence snapshot: ${(err as Error).message}`.slice(0, 300));
    } finally {
      timer?.cancel();
    }
  }

  private tell(decision: PolicyDecision, kind: EventInit["kind"], summary: string): void {
    this.deps.record({
      workerId: decision.workerId,
      kind,
      summary: summary.slice(0, 2000),
      ...(decision.sessionId ? { sessionId: decision.sessionId } : {}),
    });
  }

  /**
   * Decisions committed to act whose action was never recorded (the process
   * stopped in between): started now if the match still holds, otherwise
   * marked FAILED with why. Never both: the action's id is the decision's.
   */
  async resumeUnstarted(): Promise<number> {
    await this.readOverride();
    const pending = await this.deps.store.listUnstartedDecisions();
    const nowMs = this.deps.clock.now();
    for (const decision of pending) {
      if (this.settled.has(decision.decisionId)) continue;
      const spec = this.current.find((s) => s.name === decision.policy);
      const worker = this.deps.fleet.get(decision.workerId);
      const view = worker?.status.sessions.find((s) => s.session?.sessionId === decision.sessionId);
      const still =
        spec &&
        worker &&
        view &&
        actionable(worker) &&
        this.effectiveMode(spec) === PolicyMode.ENFORCE &&
        matchSession(spec.match, worker, view, nowMs) !== undefined;
      if (still) {
        await this.ensureStarted(spec, decision);
        continue;
      }
      decision.outcome = PolicyOutcome.FAILED;
      decision.detail =
        "not started: the gateway stopped between deciding and acting, and at restart the match no longer held";
      if (await this.deps.store.failUnstarted(decision)) {
        this.deps.metrics.outcome(decision.policy, "failed");
        this.tell(decision, "policy_failed", `policy ${decision.policy} ${decision.detail}`);
      }
      this.settled.add(decision.decisionId);
    }
    if (pending.length > 0)
      this.deps.log.info({ decisions: pending.length }, "unstarted policy decisions settled");
    return pending.length;
  }
}

function verb(action: ActionKind): string {
  return action === ActionKind.CANCEL_SESSION
    ? "cancel the session"
    : action === ActionKind.DRAIN_WORKER
      ? "drain the worker"
      : "cancel the worker";
}

function verbPast(action: ActionKind): string {
  return action === ActionKind.CANCEL_SESSION
    ? "cancelled the session"
    : action === ActionKind.DRAIN_WORKER
      ? "drained the worker"
      : "cancelled the worker";
}
