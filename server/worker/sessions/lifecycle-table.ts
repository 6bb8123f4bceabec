/**
 * The cancel path's states, events and transition table, as data and a pure
 * function; SessionLifecycle (session-lifecycle.ts) runs it with timers.
 */

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
