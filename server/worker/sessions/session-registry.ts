import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { ExecutionMetrics } from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import {
  CommandOutcome,
  FinishedSessionSchema,
  SessionOutcome,
  type FinishedSession,
  type ProfileResult,
  type Session,
  type StartProfile,
  type ThreadDump,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import type { Clock } from "../../shared/clock/clock.js";
import type { WorkerStatusSource } from "../status-report/status-source.js";
import { LiveSession } from "./live-session.js";
import type { CancelRequest, StopHow } from "./session-lifecycle.js";
import { dumpThreads } from "./thread-dump.js";
import { WorkerProfiler } from "../profile/worker-profiler.js";
import type { ProfileTarget } from "../profile/sample-thread.js";

const FINISHED_KEPT = 100;

/**
 * Every live Execute session of this worker and the recently finished ones.
 * It is what the agent and Beam mode report, and where cancels from outside
 * the streams (operator commands, shutdown) enter each session's lifecycle.
 */
export class SessionRegistry implements WorkerStatusSource {
  private readonly live = new Map<string, LiveSession>();
  private readonly done: FinishedSession[] = [];
  private idleWaiters: (() => void)[] = [];
  private dumping: Promise<ThreadDump> | undefined;
  private readonly profiler: WorkerProfiler;

  constructor(private readonly clock: Clock) {
    this.profiler = new WorkerProfiler(clock);
  }

  get activeCount(): number {
    return this.live.size;
  }

  open(): LiveSession {
    const session = new LiveSession(randomUUID().slice(0, 13), this.clock);
    this.live.set(session.id, session);
    return session;
  }

  /** Records how a session ended; called exactly once per session. */
  close(
    session: LiveSession,
    outcome: SessionOutcome,
    metrics: ExecutionMetrics,
    errorMessage = "",
  ): void {
    if (!this.live.delete(session.id)) return;
    this.done.unshift(
      create(FinishedSessionSchema, {
        sessionId: session.id,
        udfName: session.udfName,
        outcome,
        startedAtMs: BigInt(session.startedAtMs),
        endedAtMs: BigInt(this.clock.now()),
        metrics,
        errorMessage: errorMessage.slice(0, 2000),
        taskContext: session.taskContext,
      }),
    );
    if (this.done.length > FINISHED_KEPT) this.done.length = FINISHED_KEPT;
    session.lifecycle.closed();
    if (this.live.size === 0) {
      for (const wake of this.idleWaiters) wake();
      this.idleWaiters = [];
    }
  }

  sessions(): Session[] {
    return [...this.live.values()].map((s) => s.toProto());
  }

  finished(max: number): FinishedSession[] {
    return this.done.slice(0, Math.max(0, max));
  }

  /**
   * Concurrent callers (agent and Beam mode, or overlapping requests) share
   * one dump: pausing the same thread from two dumps at once would interleave.
   */
  dumpThreads(): Promise<ThreadDump> {
    this.dumping ??= dumpThreads([...this.live.values()], this.clock).finally(() => {
      this.dumping = undefined;
    });
    return this.dumping;
  }

  /** Samples the live sessions' UDF threads (server/worker/profile/). */
  profile(
    commandId: string,
    request: StartProfile,
    emit: (interim: ProfileResult) => void,
  ): Promise<ProfileResult> {
    const targets: ProfileTarget[] = [];
    for (const session of this.live.values()) {
      const thread = session.thread;
      if (thread)
        targets.push({
          threadId: thread.threadId,
          name: thread.name,
          sessionId: session.id,
          osTid: thread.osTid,
          gone: () => thread.gone || session.thread !== thread,
        });
    }
    return this.profiler.profile(commandId, request, targets, emit);
  }

  async cancelSession(
    sessionId: string,
    reason: string,
    graceMs: number,
  ): Promise<{ outcome: CommandOutcome; message: string }> {
    const session = this.live.get(sessionId);
    if (!session) {
      return this.done.some((f) => f.sessionId === sessionId)
        ? { outcome: CommandOutcome.ALREADY_ENDED, message: "the session had already ended" }
        : {
            outcome: CommandOutcome.NOT_FOUND,
            message: `no session ${sessionId.slice(0, 100)} on this worker`,
          };
    }
    const how = await session.lifecycle.ask({ reason, graceMs, by: "operator" });
    if (how === undefined)
      return {
        outcome: CommandOutcome.ALREADY_ENDED,
        message: "the session ended before the cancel took effect",
      };
    return how === "terminated"
      ? {
          outcome: CommandOutcome.THREAD_TERMINATED,
          message: `user code did not yield within ${graceMs} ms; its thread was terminated`,
        }
      : {
          outcome: CommandOutcome.CANCELLED_COOPERATIVELY,
          message: "cancelled; user code yielded",
        };
  }

  /** Cancels every live session (shutdown with cancel_sessions). */
  cancelAll(reason: string, graceMs: number): Promise<(StopHow | undefined)[]> {
    const request: CancelRequest = { reason, graceMs, by: "shutdown" };
    return Promise.all([...this.live.values()].map((s) => s.lifecycle.ask(request)));
  }

  /** Resolves once no session is live. */
  whenIdle(): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
