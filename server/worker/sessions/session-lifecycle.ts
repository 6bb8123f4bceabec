import { realClock, type Clock } from "../clock/clock.js";

/** How user code ended when a session was cancelled. */
export type StopHow = "idle" | "cooperative" | "terminated";

/** A cancel asked from outside the session's stream. */
export interface CancelRequest {
  reason: string;
  /** How long user code gets to yield before its thread is terminated. */
  graceMs: number;
  /** "operator" (agent command) or "shutdown" (Manage cancel_sessions). */
  by: "operator" | "shutdown";
}

/** The part of a UDF thread the lifecycle drives (UdfThreadHandle in production). */
export interface StoppableThread {
  /** True while a call into user code is in progress. */
  readonly busy: boolean;
  /** Sets the shared flag user code can poll. */
  raiseCancelFlag(): void;
  /** Resolves when the call in progress ends, however it ends (at once when idle). */
  whenIdle(): Promise<void>;
  /** Stops the thread for good. */
  terminate(): Promise<void>;
}

/**
 * Where a session is on its way from "running" to "finished":
 *
 * running ──ask──▶ cancelAsked ──stop──▶ cancelling ──yielded──▶ stopped ──closed──▶ finished
 *    │                               │          └──graceExpired──▶ terminating ──terminated──┘
 *    └─────────stop (engine Cancel, broken stream)──┘        (stop on an idle thread: straight to stopped)
 *
 * `closed` is accepted in every state: a session may end on its own (Finish,
 * an error) while a cancel is asked or in progress.
 */
export type LifecycleState =
  | { name: "running" }
  /** Someone outside asked; the session's loop has not picked it up yet. */
  | { name: "cancelAsked"; request: CancelRequest }
  /** The cancel flag is up; user code has `graceMs` to yield. */
  | { name: "cancelling"; request: CancelRequest | undefined; graceMs: number }
  /** User code ignored the flag for the whole grace: its thread is being terminated. */
  | { name: "terminating"; request: CancelRequest | undefined }
  /** User code no longer runs; the session is writing its terminator to the engine. */
  | { name: "stopped"; request: CancelRequest | undefined; how: StopHow }
  /** The session closed; `how` is undefined when no cancel ever stopped user code. */
  | { name: "finished"; how: StopHow | undefined };

export type LifecycleEvent =
  | { type: "ask"; request: CancelRequest }
  | { type: "stop"; graceMs: number; threadBusy: boolean }
  | { type: "yielded" }
  | { type: "graceExpired" }
  | { type: "terminated" }
  | { type: "answerWaitExpired" }
  | { type: "closed" };

/** What a transition asks the machine to do, in order. */
export type LifecycleEffect =
  | "wakeSessionLoop"
  | "raiseCancelFlag"
  | "startGraceTimer"
  | "watchForYield"
  | "terminateThread"
  | "startAnswerTimer"
  | "releaseWaiters"
  | "stopTimers";

export interface LifecycleStep {
  state: LifecycleState;
  effects: LifecycleEffect[];
}

/**
 * The transition table, as a pure function: what `event` does in `state`.
 * An event that does not apply (a late timer, a second stop) leaves the state
 * as it is and does nothing.
 */
export function transition(state: LifecycleState, event: LifecycleEvent): LifecycleStep {
  const stay: LifecycleStep = { state, effects: [] };
  switch (event.type) {
    case "ask":
      if (state.name === "running")
        return {
          state: { name: "cancelAsked", request: event.request },
          effects: ["wakeSessionLoop"],
        };
      // A second cancel joins the first; once it is finished it is answered at once.
      if (state.name === "finished") return { state, effects: ["releaseWaiters"] };
      if (state.name === "stopped") return { state, effects: ["startAnswerTimer"] };
      return stay;
    case "stop": {
      if (state.name !== "running" && state.name !== "cancelAsked") return stay;
      const request = state.name === "cancelAsked" ? state.request : undefined;
      if (!event.threadBusy)
        return { state: { name: "stopped", request, how: "idle" }, effects: ["startAnswerTimer"] };
      return {
        state: { name: "cancelling", request, graceMs: event.graceMs },
        effects: ["raiseCancelFlag", "startGraceTimer", "watchForYield"],
      };
    }
    case "yielded":
      if (state.name !== "cancelling") return stay;
      return {
        state: { name: "stopped", request: state.request, how: "cooperative" },
        effects: ["stopTimers", "startAnswerTimer"],
      };
    case "graceExpired":
      if (state.name !== "cancelling") return stay;
      return {
        state: { name: "terminating", request: state.request },
        effects: ["terminateThread"],
      };
    case "terminated":
      if (state.name !== "terminating") return stay;
      return {
        state: { name: "stopped", request: state.request, how: "terminated" },
        effects: ["startAnswerTimer"],
      };
    case "answerWaitExpired":
      // The session is slow to answer the engine: tell those waiting how user code ended.
      return state.name === "stopped" ? { state, effects: ["releaseWaiters"] } : stay;
    case "closed":
      if (state.name === "finished") return stay;
      return {
        state: { name: "finished", how: state.name === "stopped" ? state.how : undefined },
        effects: ["stopTimers", "releaseWaiters"],
      };
  }
}

export interface SessionLifecycleOptions {
  clock?: Clock;
  /**
   * Longest a cancel waits, once user code stopped, for the session to answer
   * the engine and close (default 5000): a stream the engine stopped reading
   * must not hold the operator's answer.
   */
  answerWaitMs?: number;
}

/**
 * One session's cancel path, top to bottom: who asked, whether user code
 * yielded within its grace or had its thread terminated, and when everyone
 * waiting hears the outcome. The session's loop calls `stopUserCode` when it
 * picks a cancel up (an outside one from `asked()`, the engine's in-band
 * Cancel, or a broken stream); the registry calls `closed` when the session
 * has ended. Timers run on the injected clock.
 */
export class SessionLifecycle {
  private current: LifecycleState = { name: "running" };
  private readonly clock: Clock;
  private readonly answerWaitMs: number;
  private thread: StoppableThread | undefined;
  private stopTimers: (() => void)[] = [];
  private waiters: ((how: StopHow | undefined) => void)[] = [];
  private stoppedWaiters: ((how: StopHow) => void)[] = [];
  private wakeLoop: (request: CancelRequest) => void = () => undefined;
  private readonly askedOnce = new Promise<CancelRequest>((resolve) => (this.wakeLoop = resolve));

  constructor(opts: SessionLifecycleOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.answerWaitMs = opts.answerWaitMs ?? 5000;
  }

  get state(): LifecycleState {
    return this.current;
  }

  /**
   * Asks the session to cancel from outside its stream. Resolves once the
   * session has answered the engine and closed (or `answerWaitMs` after user
   * code stopped), with how user code ended; undefined when the session ended
   * before the cancel took effect.
   */
  ask(request: CancelRequest): Promise<StopHow | undefined> {
    const answered = new Promise<StopHow | undefined>((resolve) => this.waiters.push(resolve));
    this.dispatch({ type: "ask", request });
    return answered;
  }

  /** Resolves with the first outside request; what the session's loop races against. */
  asked(): Promise<CancelRequest> {
    return this.askedOnce;
  }

  /** The request the session is handling, if the cancel came from outside. */
  get request(): CancelRequest | undefined {
    const s = this.current;
    return s.name === "finished" || s.name === "running" ? undefined : s.request;
  }

  /**
   * Stops user code: at once when `thread` is idle, else raises the cancel
   * flag and terminates the thread if it has not yielded within `graceMs`.
   * Resolves with how it stopped.
   */
  stopUserCode(thread: StoppableThread | undefined, graceMs: number): Promise<StopHow> {
    const s = this.current;
    if (s.name === "stopped") return Promise.resolve(s.how);
    if (s.name === "finished") return Promise.resolve(s.how ?? "idle");
    const stopped = new Promise<StopHow>((resolve) => this.stoppedWaiters.push(resolve));
    if (s.name === "running" || s.name === "cancelAsked") this.thread = thread;
    this.dispatch({ type: "stop", graceMs, threadBusy: thread?.busy ?? false });
    return stopped;
  }

  /** The session has ended and recorded its outcome. */
  closed(): void {
    this.dispatch({ type: "closed" });
  }

  private dispatch(event: LifecycleEvent): void {
    const step = transition(this.current, event);
    this.current = step.state;
    for (const effect of step.effects) this.run(effect);
    const s = this.current;
    if (s.name === "stopped" || s.name === "finished") {
      const how = s.how ?? "idle";
      for (const resolve of this.stoppedWaiters.splice(0)) resolve(how);
    }
  }

  private run(effect: LifecycleEffect): void {
    const s = this.current;
    switch (effect) {
      case "wakeSessionLoop":
        if (s.name === "cancelAsked") this.wakeLoop(s.request);
        return;
      case "raiseCancelFlag":
        this.thread?.raiseCancelFlag();
        return;
      case "startGraceTimer":
        if (s.name === "cancelling")
          this.stopTimers.push(
            this.clock.after(s.graceMs, () => this.dispatch({ type: "graceExpired" })),
          );
        return;
      case "watchForYield":
        void this.thread?.whenIdle().then(() => this.dispatch({ type: "yielded" }));
        return;
      case "terminateThread": {
        const done = () => this.dispatch({ type: "terminated" });
        void (this.thread?.terminate() ?? Promise.resolve()).then(done, done);
        return;
      }
      case "startAnswerTimer":
        if (this.waiters.length > 0)
          this.stopTimers.push(
            this.clock.after(this.answerWaitMs, () => this.dispatch({ type: "answerWaitExpired" })),
          );
        return;
      case "releaseWaiters": {
        const how = s.name === "stopped" || s.name === "finished" ? s.how : undefined;
        for (const resolve of this.waiters.splice(0)) resolve(how);
        return;
      }
      case "stopTimers":
        for (const stop of this.stopTimers.splice(0)) stop();
        return;
    }
  }
}
