import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ActionKind,
  ActionSchema,
  ActionStatus,
  type Action,
} from "../../../gen/stallwatch/v1/control_pb.js";
import {
  DryRunOverrideSchema,
  PolicyDecisionSchema,
  PolicyOutcome,
} from "../../../gen/stallwatch/v1/policy_pb.js";
import { AuditRecordSchema } from "../../../gen/stallwatch/v1/control_pb.js";
import type { ActionRequest } from "../actions/action-request.js";
import type { Caller } from "../auth/caller.js";
import type { EventInit } from "../events/event-log.js";
import type { TrackedWorker } from "../fleet/tracked-worker.js";
import { openStore, type Store } from "../store/store.js";
import { FakeClock } from "../../testing/fake-clock.js";
import { decisionIds } from "./decision-ids.js";
import { PolicyEngine, type PolicyActions } from "./policy-engine.js";
import { parsePolicyFile } from "./policy-file.js";
import { PolicyMetrics } from "./policy-metrics.js";
import { processingSession, stubFleet, stubWorker } from "./testing/fleet-stubs.js";

const log = pino({ level: "silent" });
const MIN = 60_000;

/** The action path as the engine sees it: records what it was asked, answers like ActionRunner. */
class RecordingActions implements PolicyActions {
  readonly started: { kind: ActionKind; request: ActionRequest; caller: Caller }[] = [];
  readonly byId = new Map<string, Action>();
  refuse: string | undefined;
  async start(kind: ActionKind, request: ActionRequest, caller: Caller): Promise<Action> {
    await Promise.resolve();
    if (this.refuse) throw new ConnectError(this.refuse, Code.FailedPrecondition);
    const existing = this.byId.get(request.actionId);
    if (existing) return existing;
    this.started.push({ kind, request, caller });
    const action = create(ActionSchema, {
      actionId: request.actionId,
      kind,
      workerId: request.workerId,
      sessionId: request.sessionId ?? "",
      actor: caller.actor,
      status: ActionStatus.RUNNING,
    });
    this.byId.set(request.actionId, action);
    return action;
  }
  /** Workers with no way to take an action (no agent, no Manage endpoint). */
  readonly unreachable = new Set<string>();
  whyNot(_kind: ActionKind, workerId: string): string | undefined {
    return this.unreachable.has(workerId)
      ? `worker ${workerId} has no agent connection`
      : undefined;
  }
  get(actionId: string): Promise<Action | undefined> {
    return Promise.resolve(this.byId.get(actionId));
  }
}

describe("PolicyEngine", () => {
  let clock: FakeClock;
  let store: Store;
  let actions: RecordingActions;
  let events: EventInit[];
  let workers: TrackedWorker[];
  let snapshotRefusal: string | undefined;
  let registry: Registry;

  const engineFor = (yaml: string) => {
    const specs = parsePolicyFile(yaml, "t");
    // A second engine in one test stands for a restart: a process of its own, its own metrics.
    registry = new Registry();
    return new PolicyEngine({
      specs,
      fleet: stubFleet(workers),
      actions,
      store,
      record: (e) => events.push(e),
      metrics: new PolicyMetrics(
        registry,
        specs.map((s) => s.name),
      ),
      takeSnapshot: (actor, workerId) =>
        snapshotRefusal
          ? Promise.reject(new Error(snapshotRefusal))
          : Promise.resolve(`snap-${workerId}-${actor}`),
      clock,
      log,
      intervalMs: 1000,
      gatewayId: "",
    });
  };
  const policy = (mode: string, extra = "") =>
    `- { name: hung, mode: ${mode}, action: cancel-session, match: { in_state_for: 10m, no_progress_for: 10m, selector: "worker_id=w*" }${extra} }`;
  const hungSessions = (id: string, count: number) =>
    stubWorker({
      id,
      sessions: Array.from({ length: count }, (_, i) =>
        processingSession(`${id}-s${i}`, clock.now() - 11 * MIN),
      ),
    });
  const decisions = () => store.listDecisions({ limit: 500 });

  beforeEach(async () => {
    clock = new FakeClock();
    store = await openStore({
      path: ":memory:",
      log,
      clock,
      retention: { snapshotsMs: 86_400_000, eventsMs: 86_400_000, auditMs: 86_400_000 },
    });
    actions = new RecordingActions();
    events = [];
    workers = [];
    snapshotRefusal = undefined;
    registry = new Registry();
  });
  afterEach(async () => {
    await store.close();
  });

  it("enforce: acts once per session as policy:<name>, with the evidence and the snapshot", async () => {
    workers.push(hungSessions("w1", 1));
    const engine = engineFor(policy("enforce"));
    await engine.tick();
    await engine.tick();
    expect(actions.started).toHaveLength(1);
    const [{ kind, request, caller }] = actions.started as [(typeof actions.started)[number]];
    expect(kind).toBe(ActionKind.CANCEL_SESSION);
    expect(caller.actor).toBe("policy:hung");
    expect(request).toMatchObject({
      workerId: "w1",
      sessionId: "w1-s0",
      evidence: "processing for 11 min; no progress for 11 min",
      evidenceSnapshotId: "snap-w1-policy:hung",
      reason: "remediation policy hung: processing for 11 min; no progress for 11 min",
    });
    expect(await decisions()).toMatchObject([
      {
        outcome: PolicyOutcome.ACTED,
        actionId: request.actionId,
        evidenceSnapshotId: "snap-w1-policy:hung",
      },
    ]);
    expect(events.map((e) => e.kind)).toEqual(["policy_acted"]);
    // A second engine (a restart, another gateway) finds the decision and its action.
    await engineFor(policy("enforce")).tick();
    expect(actions.started).toHaveLength(1);
  });

  it("a reload (replaceSpecs): a policy added to a started engine judges from its next tick; one kept never acts twice; all off stops", async () => {
    workers.push(hungSessions("w1", 1));
    const engine = engineFor(policy("off"));
    engine.start(60_000);
    await clock.advance(5_000);
    expect(actions.started).toEqual([]); // nothing enabled: no timer at all
    engine.replaceSpecs(parsePolicyFile(policy("enforce"), "t"));
    expect(engine.specs.map((s) => s.name)).toEqual(["hung"]);
    await clock.advance(5_000);
    // The timer the reload started judges it (no tick called by hand here).
    await vi.waitFor(() => expect(actions.started).toHaveLength(1), { timeout: 5_000 });
    // Kept across another reload: its decision is in the store, so it does not act again.
    engine.replaceSpecs(parsePolicyFile(policy("enforce"), "t"));
    await clock.advance(5_000);
    await engine.tick();
    expect(actions.started).toHaveLength(1);
    // Every policy off: the engine stops judging.
    engine.replaceSpecs(parsePolicyFile(policy("off"), "t"));
    workers.push(hungSessions("w2", 1));
    await clock.advance(5_000);
    expect(actions.started).toHaveLength(1);
    engine.stop();
  });

  it("drain: one decision per worker run however many of its sessions match", async () => {
    workers.push(hungSessions("w1", 3));
    const engine = engineFor(
      `- { name: drain-stuck, mode: enforce, action: drain, match: { no_progress_for: 10m, selector: "worker_id=w*" } }`,
    );
    await engine.tick();
    await engine.tick();
    expect(actions.started).toHaveLength(1);
    expect(actions.started[0]?.kind).toBe(ActionKind.DRAIN_WORKER);
    expect(actions.started[0]?.request.sessionId).toBeUndefined();
    expect(await decisions()).toHaveLength(1);
  });

  it("a refused snapshot does not hold the action back; the decision says why there is none", async () => {
    workers.push(hungSessions("w1", 1));
    snapshotRefusal = "too many snapshots: at most 10 per minute per caller";
    await engineFor(policy("enforce")).tick();
    expect(actions.started).toHaveLength(1);
    expect(await decisions()).toMatchObject([
      {
        outcome: PolicyOutcome.ACTED,
        evidenceSnapshotId: "",
        detail: "no evidence snapshot: too many snapshots: at most 10 per minute per caller",
      },
    ]);
  });

  it("dry run: records would-have-acted once and acts never", async () => {
    workers.push(hungSessions("w1", 2));
    const engine = engineFor(policy("dry-run"));
    await engine.tick();
    await engine.tick();
    expect(actions.started).toEqual([]);
    const found = await decisions();
    expect(found.map((d) => d.outcome)).toEqual([PolicyOutcome.WOULD_ACT, PolicyOutcome.WOULD_ACT]);
    expect(events.map((e) => e.kind)).toEqual(["policy_matched", "policy_matched"]);
    expect(await registry.metrics()).toMatch(
      /stallwatch_policy_actions_total\{policy="hung",outcome="would_act"\} 2/,
    );
  });

  it("the cap: K actions per window, then SKIPPED_CAP once per session and window; the next window acts", async () => {
    workers.push(hungSessions("w1", 3));
    const engine = engineFor(policy("enforce", ", max_actions: 2, window: 10m"));
    await engine.tick();
    await engine.tick();
    expect(actions.started).toHaveLength(2);
    const first = await decisions();
    expect(first.filter((d) => d.outcome === PolicyOutcome.SKIPPED_CAP)).toHaveLength(1);
    expect(events.filter((e) => e.kind === "policy_cap_reached")).toHaveLength(1);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/stallwatch_policy_cap_reached_total\{policy="hung"\} 1/);
    expect(metrics).toMatch(
      /stallwatch_policy_actions_total\{policy="hung",outcome="skipped_cap"\} 1/,
    );
    await clock.advance(10 * MIN + 1);
    await engine.tick();
    expect(actions.started).toHaveLength(3);
  });

  it("dry run says when the action could not have started", async () => {
    workers.push(hungSessions("w-beam", 1));
    actions.unreachable.add("w-beam");
    const engine = engineFor(policy("dry-run"));
    await engine.tick();
    await engine.tick();
    const [only, ...rest] = await decisions();
    expect(rest).toEqual([]);
    expect(only?.outcome).toBe(PolicyOutcome.FAILED);
    expect(only?.detail).toBe("dry run: it would fail: worker w-beam has no agent connection");
    expect(events.map((e) => e.kind)).toEqual(["policy_failed"]);
  });

  it("dry run obeys the same cap, so it shows what enforcing would have done", async () => {
    workers.push(hungSessions("w1", 3));
    const engine = engineFor(policy("dry-run", ", max_actions: 1"));
    await engine.tick();
    await engine.tick();
    const outcomes = (await decisions()).map((d) => d.outcome).sort();
    expect(outcomes).toEqual([
      PolicyOutcome.WOULD_ACT,
      PolicyOutcome.SKIPPED_CAP,
      PolicyOutcome.SKIPPED_CAP,
    ]);
    expect(actions.started).toEqual([]);
    // Enforcing later is a separate count: it still acts (within its own cap).
    await engineFor(policy("enforce", ", max_actions: 1")).tick();
    expect(actions.started).toHaveLength(1);
  });

  it("the switch holds every policy in dry run, read from the store each tick", async () => {
    workers.push(hungSessions("w1", 1));
    const on = create(DryRunOverrideSchema, {
      on: true,
      actor: "alice",
      atMs: BigInt(clock.now()),
      auditId: "a1",
    });
    await store.setDryRunOverride(
      on,
      create(AuditRecordSchema, { id: "a1", atMs: on.atMs, actor: "alice" }),
    );
    const engine = engineFor(policy("enforce"));
    await engine.tick();
    expect(actions.started).toEqual([]);
    expect((await decisions())[0]?.outcome).toBe(PolicyOutcome.WOULD_ACT);
    await store.setDryRunOverride(
      { ...on, on: false, auditId: "a2" },
      create(AuditRecordSchema, { id: "a2", atMs: on.atMs, actor: "alice" }),
    );
    await engine.tick();
    expect(actions.started).toHaveLength(1);
  });

  it("an action that cannot start is FAILED with why, and not tried again", async () => {
    workers.push(hungSessions("w1", 1));
    actions.refuse = 'worker "w1" has no agent connected';
    const engine = engineFor(policy("enforce"));
    await engine.tick();
    actions.refuse = undefined;
    await engine.tick();
    await engineFor(policy("enforce")).tick();
    expect(actions.started).toEqual([]);
    const [failed] = await decisions();
    expect(failed?.outcome).toBe(PolicyOutcome.FAILED);
    expect(failed?.detail).toMatch(/^could not cancel the session: .*has no agent connected/);
  });

  it("skips workers on their way out, and bounds new decisions per tick", async () => {
    workers.push(
      stubWorker({
        ...{ id: "w-gone", state: "gone" },
        sessions: hungSessions("x", 1).status.sessions.slice(),
      }),
    );
    workers.push(hungSessions("w-many", 60));
    const engine = engineFor(policy("dry-run"));
    await engine.tick();
    expect((await decisions()).every((d) => d.workerId === "w-many")).toBe(true);
    expect(await decisions()).toHaveLength(50);
    await engine.tick();
    expect(await decisions()).toHaveLength(60);
  });

  it("at restart: starts a decided action whose match still holds, fails one whose session ended", async () => {
    workers.push(hungSessions("w1", 1));
    const decided = (id: string, sessionId: string) =>
      create(PolicyDecisionSchema, {
        decisionId: id,
        actionId: id,
        policy: "hung",
        outcome: PolicyOutcome.ACTED,
        workerId: "w1",
        sessionId,
        atMs: BigInt(clock.now()),
      });
    const held = decisionIds({ policy: "hung", workerId: "w1", target: "session:w1-s0" }).act;
    const ended = decisionIds({ policy: "hung", workerId: "w1", target: "session:w1-gone" }).act;
    await store.recordDecision(decided(held, "w1-s0"));
    await store.recordDecision(decided(ended, "w1-gone"));
    const engine = engineFor(policy("enforce"));
    expect(await engine.resumeUnstarted()).toBe(2);
    expect(actions.started.map((s) => s.request.actionId)).toEqual([held]);
    const byId = new Map((await decisions()).map((d) => [d.decisionId, d]));
    expect(byId.get(ended)?.outcome).toBe(PolicyOutcome.FAILED);
    expect(byId.get(ended)?.detail).toMatch(
      /^not started: the gateway stopped between deciding and acting/,
    );
    // Settled once: asked again (a later sweep), nothing is started twice.
    await engine.resumeUnstarted();
    await engine.tick();
    expect(actions.started).toHaveLength(1);
  });
});
