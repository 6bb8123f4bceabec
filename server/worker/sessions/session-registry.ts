import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { ExecutionMetrics } from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import {
  CommandOutcome,
  FinishedSessionSchema,
  SessionOutcome,
  type FinishedSession,
  type Session,
  type ThreadDump,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import type { WorkerStatusSource } from "../status/status-source.js";
import { LiveSession } from "./live-session.js";
import { dumpThreads } from "./thread-dump.js";

const FINISHED_KEPT = 100;

/**
 * Every live Execute session of this worker and the recently finished ones.
 * It is what the agent and Beam mode report, and how sessions are cancelled
 * from outside their streams (operator commands, shutdown).
 */
export class SessionRegistry implements WorkerStatusSource {
  private readonly live = new Map<string, LiveSession>();
  private readonly done: FinishedSession[] = [];
  private readonly endWaiters = new Map<string, (() => void)[]>();
  private idleWaiters: (() => void)[] = [];
  private dumping: Promise<ThreadDump> | undefined;

  get activeCount(): number {
    return this.live.size;
  }

  open(): LiveSession {
    const session = new LiveSession(randomUUID().slice(0, 13));
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
        endedAtMs: BigInt(Date.now()),
        metrics,
        errorMessage: errorMessage.slice(0, 2000),
        taskContext: session.taskContext,
      }),
    );
    if (this.done.length > FINISHED_KEPT) this.done.length = FINISHED_KEPT;
    for (const wake of this.endWaiters.get(session.id) ?? []) wake();
    this.endWaiters.delete(session.id);
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
    this.dumping ??= dumpThreads([...this.live.values()]).finally(() => {
      this.dumping = undefined;
    });
    return this.dumping;
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
    const how = await this.cancel(session, reason, graceMs, "operator");
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
  cancelAll(reason: string, graceMs: number): Promise<unknown> {
    return Promise.all(
      [...this.live.values()].map((s) => this.cancel(s, reason, graceMs, "shutdown")),
    );
  }

  /** Resolves once no session is live. */
  whenIdle(): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async cancel(
    session: LiveSession,
    reason: string,
    graceMs: number,
    by: "operator" | "shutdown",
  ): Promise<"idle" | "cooperative" | "terminated"> {
    const settled = new Promise<"idle" | "cooperative" | "terminated">((settle) =>
      session.requestCancel({ reason, graceMs, by, settle }),
    );
    const ended = new Promise<void>((resolve) => {
      const waiters = this.endWaiters.get(session.id) ?? [];
      waiters.push(resolve);
      this.endWaiters.set(session.id, waiters);
    });
    const how = await settled;
    // The session answers the engine the protocol's way; wait (bounded) for it.
    await Promise.race([ended, new Promise((r) => setTimeout(r, 5000).unref())]);
    return how;
  }
}
