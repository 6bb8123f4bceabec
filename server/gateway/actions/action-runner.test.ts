import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import {
  AnnounceSchema,
  CommandOutcome,
  CommandResultSchema,
  type ConnectResponse,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import {
  ActionKind,
  ActionStatus,
  Role,
  type Action,
} from "../../../gen/stallwatch/v1/control_pb.js";
import { FakeClock } from "../../testing/fake-clock.js";
import { AgentChannel } from "../agent-endpoint/agent-channel.js";
import type { Caller } from "../auth/caller.js";
import { EventLog } from "../events/event-log.js";
import { Fleet } from "../fleet/fleet.js";
import { openStore, type Store } from "../store/store.js";
import { retention, silentLog as log } from "../store/testing/store-fixtures.js";
import { ActionRunner } from "./action-runner.js";
import type { ManageClients } from "./action-steps.js";
import { systemClock } from "../../shared/clock/clock.js";

const operator: Caller = { actor: "alice", role: Role.OPERATOR, reason: "" };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A runner over a real SQLite store, with a fake clock and a worker that has an agent. */
async function setup(
  manage: ManageClients = { clientFor: () => undefined },
  capabilities: string[] = [],
) {
  const dir = mkdtempSync(join(tmpdir(), "stallwatch-actions-"));
  const store: Store = await openStore({
    clock: systemClock,
    path: join(dir, "db"),
    log,
    retention,
  });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  const clock = new FakeClock(1_000_000);
  const events = new EventLog(systemClock);
  const fleet = new Fleet({ clock, events });
  const worker = fleet.enroll("w-1", "agent", "127.0.0.1:7071");
  fleet.agentConnected(worker, create(AnnounceSchema, { workerId: "w-1", capabilities }));
  fleet.beatAnswered(worker, clock.now(), { metrics: { active_sessions: "3" } });
  const channel = new AgentChannel("w-1", clock);
  const runner = new ActionRunner({
    fleet,
    prober: manage,
    agents: new Map([["w-1", channel]]),
    events,
    store,
    log,
    clock,
    defaultGraceMs: 2000,
    drainTimeoutMs: 60_000,
  });
  /** The commands the gateway sent the agent so far. */
  const sent = async (): Promise<ConnectResponse[]> =>
    (await channel.outbox.takeAll(AbortSignal.timeout(1000), 0)) ?? [];
  /** Every state the action went through, as watchers saw it. */
  const seen = (actionId: string) => {
    const states: Action[] = [];
    runner.subscribe(actionId, (a) => states.push({ ...a }));
    return states;
  };
  return { clock, fleet, worker, channel, runner, store, events, sent, seen };
}

describe("ActionRunner with a fake clock", () => {
  it("reports a cancel the worker escalated to a thread termination", async () => {
    const { runner, channel, sent, store } = await setup();
    const action = await runner.start(
      ActionKind.CANCEL_SESSION,
      { actionId: "a-1", workerId: "w-1", sessionId: "s-1", reason: "stuck" },
      operator,
    );
    const [command] = await sent();
    expect(command?.message.case).toBe("command");
    const commandId = command?.message.case === "command" ? command.message.value.commandId : "";
    channel.onCommandResult(
      create(CommandResultSchema, {
        commandId,
        outcome: CommandOutcome.THREAD_TERMINATED,
        tookMs: 2100n,
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(action.status).toBe(ActionStatus.SUCCEEDED);
    expect(action.outcome).toBe("cancel escalated: thread terminated after 2 s");
    // Committed with its audit record before anyone saw it end.
    expect((await store.getAction("a-1"))?.status).toBe(ActionStatus.SUCCEEDED);
  });

  it("fails a cancel the worker never answers once its grace and slack have passed", async () => {
    const { runner, clock, sent } = await setup();
    const action = await runner.start(
      ActionKind.CANCEL_SESSION,
      { actionId: "a-2", workerId: "w-1", sessionId: "s-1", reason: "stuck", graceMs: 5000 },
      operator,
    );
    await sent();
    await clock.advance(5000 + 9_999);
    expect(action.status).toBe(ActionStatus.RUNNING);
    await clock.advance(1);
    expect(action.status).toBe(ActionStatus.FAILED);
    expect(action.outcome).toMatch(
      /^failed: \[deadline_exceeded\] no command result from worker w-1 within 15000 ms/,
    );
  });

  it("follows a drain session by session until the worker exits", async () => {
    const shutdowns: string[] = [];
    const manage: ManageClients = {
      clientFor: () => ({
        shutdown: (request) => {
          shutdowns.push(request.reason ?? "");
          return Promise.resolve({ ok: true, value: true, rttMs: 1, firstOnConnection: false });
        },
        heartbeat: () => Promise.reject(new Error("not used")),
      }),
    };
    const { runner, clock, fleet, worker, seen, events } = await setup(manage);
    const states = seen("d-1");
    const action = await runner.start(
      ActionKind.DRAIN_WORKER,
      { actionId: "d-1", workerId: "w-1", reason: "rolling restart" },
      operator,
    );
    await clock.advance(0);
    expect(shutdowns).toEqual(["alice: rolling restart"]);
    expect(worker.liveness.current.state).toBe("draining");
    // The drain is a liveness change like any other: one event, from the fleet.
    expect(events.list({ kind: "liveness" })[0]?.toState).toBe("draining");

    fleet.beatAnswered(worker, clock.now(), { metrics: { active_sessions: "1" } });
    await clock.advance(500);
    expect(action.sessionsRemaining).toBe(1);
    expect(action.outcome).toBe("draining: 1 of 3 sessions left");

    fleet.connectionLost(worker, clock.now(), "connection refused");
    await clock.advance(500);
    expect(action.status).toBe(ActionStatus.SUCCEEDED);
    expect(action.outcome).toBe("drained: 3 sessions finished in 1 s, worker exited");
    expect(states.map((s) => s.outcome)).toEqual([
      "draining: 3 sessions in flight",
      "draining: 1 of 3 sessions left",
      "drained: 3 sessions finished in 1 s, worker exited",
    ]);
  });

  it("fails a drain the worker has not finished within the drain timeout", async () => {
    const manage: ManageClients = {
      clientFor: () => ({
        shutdown: () =>
          Promise.resolve({ ok: true, value: true, rttMs: 1, firstOnConnection: false }),
        heartbeat: () => Promise.reject(new Error("not used")),
      }),
    };
    const { runner, clock } = await setup(manage);
    const action = await runner.start(
      ActionKind.CANCEL_WORKER,
      { actionId: "c-1", workerId: "w-1", reason: "runaway" },
      operator,
    );
    await clock.advance(59_000);
    expect(action.status).toBe(ActionStatus.RUNNING);
    await clock.advance(1_500);
    expect(action.status).toBe(ActionStatus.FAILED);
    expect(action.outcome).toBe("failed: worker still running 60 s after the cancel request");
  });

  /** A worker whose Manage shutdown goes unanswered (its GIL held by native code). */
  const unanswered: ManageClients = {
    clientFor: () => ({
      shutdown: () =>
        Promise.resolve({
          ok: false,
          kind: "timeout",
          reason: "no answer within 5000 ms",
          rttMs: 5000,
        }),
      heartbeat: () => Promise.reject(new Error("not used")),
    }),
  };

  /**
   * Takes the one command the gateway sent the agent, checks it is a kill,
   * and answers it as the agent would.
   */
  async function answerKill(
    { sent, channel }: Pick<Awaited<ReturnType<typeof setup>>, "sent" | "channel">,
    outcome: CommandOutcome,
    message: string,
  ): Promise<void> {
    const [command] = await sent();
    const kill = command?.message.case === "command" ? command.message.value : undefined;
    expect(kill?.kind.case).toBe("killWorker");
    channel.onCommandResult(
      create(CommandResultSchema, { commandId: kill?.commandId ?? "", outcome, message }),
    );
  }

  it("ends a cancel-worker the worker cannot answer through an agent that can kill it, in its words", async () => {
    const { runner, channel, sent, clock } = await setup(unanswered, ["kill-worker"]);
    const action = await runner.start(
      ActionKind.CANCEL_WORKER,
      { actionId: "k-1", workerId: "w-1", reason: "GIL held" },
      operator,
    );
    await clock.advance(0);
    expect(action.outcome).toBe(
      "the Manage shutdown went unanswered: no answer within 5000 ms; its agent is ending the process",
    );
    await answerKill(
      { sent, channel },
      CommandOutcome.PROCESS_KILLED,
      "worker process 4242 killed (SIGKILL) by the agent helper after 2.0 s: GIL held",
    );
    await clock.advance(0);
    expect(action.status).toBe(ActionStatus.SUCCEEDED);
    expect(action.outcome).toBe(
      "cancelled: 3 sessions aborted; worker process 4242 killed (SIGKILL) by the agent helper after 2.0 s: GIL held (the Manage shutdown went unanswered: no answer within 5000 ms)",
    );
  });

  it("never reports a kill the agent could not carry out as done", async () => {
    const { runner, channel, sent, clock } = await setup(unanswered, ["kill-worker"]);
    const action = await runner.start(
      ActionKind.CANCEL_WORKER,
      { actionId: "k-2", workerId: "w-1", reason: "GIL held" },
      operator,
    );
    await clock.advance(0);
    await answerKill(
      { sent, channel },
      CommandOutcome.FAILED,
      "not killed: worker process 4242 still runs",
    );
    await clock.advance(0);
    expect(action.status).toBe(ActionStatus.FAILED);
    expect(action.outcome).toMatch(/its agent could not end it: not killed/);
  });

  /** A worker that acknowledges the shutdown and then never exits (a thread stuck in native code). */
  const acknowledged: ManageClients = {
    clientFor: () => ({
      shutdown: () =>
        Promise.resolve({ ok: true, value: true, rttMs: 1, firstOnConnection: false }),
      heartbeat: () => Promise.reject(new Error("not used")),
    }),
  };

  it("ends a cancel-worker the worker acknowledged but outlived through its agent after 30 s", async () => {
    const { runner, channel, sent, clock } = await setup(acknowledged, ["kill-worker"]);
    const action = await runner.start(
      ActionKind.CANCEL_WORKER,
      { actionId: "k-3", workerId: "w-1", reason: "read never returns" },
      operator,
    );
    await clock.advance(29_000);
    expect(await sent()).toEqual([]);
    expect(action.status).toBe(ActionStatus.RUNNING);
    await clock.advance(1_500);
    expect(action.outcome).toBe(
      "the worker acknowledged the shutdown but was still running 30 s later; its agent is ending the process",
    );
    await answerKill(
      { sent, channel },
      CommandOutcome.PROCESS_KILLED,
      "worker process 4242 ended on SIGTERM from the agent helper after 0.1 s",
    );
    await clock.advance(0);
    expect(action.status).toBe(ActionStatus.SUCCEEDED);
    expect(action.outcome).toBe(
      "cancelled: 3 sessions aborted; worker process 4242 ended on SIGTERM from the agent helper after 0.1 s (the worker acknowledged the shutdown but was still running 30 s later)",
    );
  });

  it("never kills a drained worker that is still finishing, whatever its agent can do", async () => {
    const { runner, sent, clock } = await setup(acknowledged, ["kill-worker"]);
    const action = await runner.start(
      ActionKind.DRAIN_WORKER,
      { actionId: "d-9", workerId: "w-1", reason: "rolling restart" },
      operator,
    );
    await clock.advance(59_000);
    expect(await sent()).toEqual([]);
    expect(action.status).toBe(ActionStatus.RUNNING);
  });

  it("kills nothing for a drain, nor through an agent that cannot", async () => {
    for (const [kind, capabilities] of [
      [ActionKind.DRAIN_WORKER, ["kill-worker"]],
      [ActionKind.CANCEL_WORKER, []],
    ] as const) {
      const { runner, sent, clock } = await setup(unanswered, [...capabilities]);
      const action = await runner.start(
        kind,
        { actionId: `n-${kind}`, workerId: "w-1", reason: "stuck" },
        operator,
      );
      await clock.advance(0);
      expect(await sent()).toEqual([]);
      expect(action.status).toBe(ActionStatus.FAILED);
      expect(action.outcome).toBe("failed: worker unreachable (no answer within 5000 ms)");
    }
  });
});
