import type { Clock, Timer } from "../../shared/clock/clock.js";
import {
  transition,
  type CancelRequest,
  type LifecycleEffect,
  type LifecycleEvent,
  type LifecycleState,
  type StopHow,
  type StoppableThread,
} from "./lifecycle-table.js";

export type { CancelRequest, LifecycleState, StopHow, StoppableThread } from "./lifecycle-table.js";

export interface SessionLifecycleOptions {
  clock: Clock;
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
  private stopTimers: Timer[] = [];
  private waiters: ((how: StopHow | undefined) => void)[] = [];
  private stoppedWaiters: ((how: StopHow) => void)[] = [];
  private wakeLoop: (request: CancelRequest) => void = () => undefined;
  private readonly askedOnce = new Promise<CancelRequest>((resolve) => (this.wakeLoop = resolve));

  constructor(opts: SessionLifecycleOptions) {
    this.clock = opts.clock;
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
        for (const timer of this.stopTimers.splice(0)) timer.cancel();
        return;
    }
  }
}
