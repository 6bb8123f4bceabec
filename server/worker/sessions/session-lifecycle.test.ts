import { describe, expect, it } from "vitest";
import { FakeClock, flush } from "../../testing/fake-clock.js";
import {
  transition,
  type CancelRequest,
  type LifecycleState,
  type StoppableThread,
} from "./lifecycle-table.js";
import { SessionLifecycle } from "./session-lifecycle.js";

/** A UDF thread whose user code yields or hangs when the test says so. */
class FakeThread implements StoppableThread {
  busy = true;
  flagRaised = false;
  terminated = false;
  private wake: (() => void) | undefined;

  raiseCancelFlag(): void {
    this.flagRaised = true;
  }
  whenIdle(): Promise<void> {
    return this.busy ? new Promise((r) => (this.wake = r)) : Promise.resolve();
  }
  terminate(): Promise<void> {
    this.terminated = true;
    this.yieldNow();
    return Promise.resolve();
  }
  /** User code returns (it saw the flag). */
  yieldNow(): void {
    this.busy = false;
    this.wake?.();
  }
}

const operator: CancelRequest = { reason: "stuck", graceMs: 2000, by: "operator" };

function setUp(answerWaitMs = 5000) {
  const clock = new FakeClock();
  return {
    clock,
    lifecycle: new SessionLifecycle({ clock, answerWaitMs }),
    thread: new FakeThread(),
  };
}

/** Records when a promise settles, without awaiting it. */
function track<T>(promise: Promise<T>): { value: T | "pending" } {
  const seen: { value: T | "pending" } = { value: "pending" };
  void promise.then((v) => (seen.value = v));
  return seen;
}

describe("transition (the table)", () => {
  const running: LifecycleState = { name: "running" };

  it("ask wakes the session loop once; a second ask joins", () => {
    const asked = transition(running, { type: "ask", request: operator });
    expect(asked).toEqual({
      state: { name: "cancelAsked", request: operator },
      effects: ["wakeSessionLoop"],
    });
    expect(transition(asked.state, { type: "ask", request: operator }).effects).toEqual([]);
  });

  it("stop on a busy thread raises the flag and starts the grace; on an idle one it is stopped at once", () => {
    expect(transition(running, { type: "stop", graceMs: 500, threadBusy: true })).toEqual({
      state: { name: "cancelling", request: undefined, graceMs: 500 },
      effects: ["raiseCancelFlag", "startGraceTimer", "watchForYield"],
    });
    expect(transition(running, { type: "stop", graceMs: 500, threadBusy: false }).state).toEqual({
      name: "stopped",
      request: undefined,
      how: "idle",
    });
  });

  it("late events are ignored: a grace timer after the yield, a yield after termination", () => {
    const stopped: LifecycleState = { name: "stopped", request: undefined, how: "cooperative" };
    expect(transition(stopped, { type: "graceExpired" })).toEqual({ state: stopped, effects: [] });
    const terminating: LifecycleState = { name: "terminating", request: undefined };
    expect(transition(terminating, { type: "yielded" })).toEqual({
      state: terminating,
      effects: [],
    });
  });

  it("closed is accepted in every state and keeps how user code stopped", () => {
    for (const state of [
      running,
      { name: "cancelAsked", request: operator },
      { name: "cancelling", request: operator, graceMs: 1 },
    ] satisfies LifecycleState[])
      expect(transition(state, { type: "closed" }).state).toEqual({
        name: "finished",
        how: undefined,
      });
    expect(
      transition({ name: "stopped", request: operator, how: "terminated" }, { type: "closed" })
        .state,
    ).toEqual({ name: "finished", how: "terminated" });
  });
});

describe("SessionLifecycle on a fake clock", () => {
  it("cooperative: user code yields within the grace; the asker hears it once the session closed", async () => {
    const { clock, lifecycle, thread } = setUp();
    const answer = track(lifecycle.ask(operator));
    expect(await lifecycle.asked()).toBe(operator);
    const stopped = track(lifecycle.stopUserCode(thread, operator.graceMs));
    expect(thread.flagRaised).toBe(true);
    expect(lifecycle.state.name).toBe("cancelling");
    await clock.advance(1000);
    thread.yieldNow();
    await flush();
    expect(stopped.value).toBe("cooperative");
    expect(answer.value).toBe("pending");
    lifecycle.closed();
    await flush();
    expect(answer.value).toBe("cooperative");
    expect(thread.terminated).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it("escalation: user code ignores the flag, its thread is terminated exactly at the grace", async () => {
    const { clock, lifecycle, thread } = setUp();
    const stopped = track(lifecycle.stopUserCode(thread, 2000));
    await clock.advance(1999);
    expect(thread.terminated).toBe(false);
    expect(stopped.value).toBe("pending");
    await clock.advance(1);
    expect(thread.terminated).toBe(true);
    expect(stopped.value).toBe("terminated");
    expect(lifecycle.state).toEqual({ name: "stopped", request: undefined, how: "terminated" });
  });

  it("idle: a cancel picked up between batches stops at once", async () => {
    const { lifecycle, thread } = setUp();
    thread.busy = false;
    void lifecycle.ask(operator);
    expect(await lifecycle.stopUserCode(thread, 2000)).toBe("idle");
    expect(thread.flagRaised).toBe(false);
  });

  it("double cancel: the second asker waits for the first one's outcome", async () => {
    const { clock, lifecycle, thread } = setUp();
    const first = track(lifecycle.ask(operator));
    const second = track(lifecycle.ask({ reason: "again", graceMs: 10, by: "shutdown" }));
    void lifecycle.stopUserCode(thread, operator.graceMs);
    await clock.advance(2000);
    lifecycle.closed();
    await flush();
    expect(first.value).toBe("terminated");
    expect(second.value).toBe("terminated");
  });

  it("cancel during completion: the session closes before picking the cancel up", async () => {
    const { lifecycle } = setUp();
    const answer = track(lifecycle.ask(operator));
    lifecycle.closed();
    await flush();
    expect(answer.value).toBeUndefined();
    // Asked again after the end: answered at once.
    expect(await lifecycle.ask(operator)).toBeUndefined();
  });

  it("an engine Cancel and an operator's cancel meet: the operator hears how the engine's ended", async () => {
    const { clock, lifecycle, thread } = setUp();
    void lifecycle.stopUserCode(thread, 300);
    const answer = track(lifecycle.ask(operator));
    await clock.advance(300);
    lifecycle.closed();
    await flush();
    expect(answer.value).toBe("terminated");
  });

  it("a session slow to answer the engine: the asker hears after answerWaitMs", async () => {
    const { clock, lifecycle, thread } = setUp(5000);
    const answer = track(lifecycle.ask(operator));
    void lifecycle.stopUserCode(thread, 100);
    thread.yieldNow();
    await clock.advance(4999);
    expect(answer.value).toBe("pending");
    await clock.advance(1);
    expect(answer.value).toBe("cooperative");
  });
});
