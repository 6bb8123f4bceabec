import { create } from "@bufbuild/protobuf";
import {
  ExecutionMetricsSchema,
  type ExecutionMetrics,
} from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { SessionSchema, SessionState, type Session } from "../../../gen/stallwatch/v1/agent_pb.js";
import type { UdfThreadHandle } from "../udf/udf-thread-handle.js";

/** Why a session is being cancelled from outside its stream. */
export interface ExternalCancel {
  reason: string;
  graceMs: number;
  /** "operator" (agent command) or "shutdown" (Manage cancel_sessions). */
  by: "operator" | "shutdown";
  /** Resolves with how user code ended; set by the session when it has handled the cancel. */
  settle: (how: "idle" | "cooperative" | "terminated") => void;
}

/**
 * One Execute stream's live state: what the agent reports about it and how
 * it can be cancelled from outside. Counters are measured, never taken from
 * the engine.
 */
export class LiveSession {
  state = SessionState.INITIALIZING;
  stateEnteredAtMs = Date.now();
  readonly startedAtMs = Date.now();
  udfName = "";
  udfFormat = "";
  taskContext: Record<string, string> = {};
  thread: UdfThreadHandle | undefined;
  lastProgressAtMs = Date.now();
  readonly metrics = {
    bytesIn: 0,
    bytesOut: 0,
    rowsIn: 0,
    rowsOut: 0,
    batchesIn: 0,
    batchesOut: 0,
    initWallNs: 0,
    processingWallNs: 0,
    receiveWallNs: 0,
    sendWallNs: 0,
    workWallNs: 0,
    workCpuNs: 0,
  };
  externalCancel: ExternalCancel | undefined;
  private wakeCancel: (c: ExternalCancel) => void = () => undefined;
  /** One promise per session, however often it is awaited. */
  private readonly cancelRequested = new Promise<ExternalCancel>(
    (resolve) => (this.wakeCancel = resolve),
  );

  constructor(readonly id: string) {}

  enter(state: SessionState): void {
    if (this.state === state) return;
    this.state = state;
    this.stateEnteredAtMs = Date.now();
  }

  progressed(): void {
    this.lastProgressAtMs = Date.now();
  }

  /** Asks the session to abort; the session's loop picks it up. */
  requestCancel(cancel: ExternalCancel): void {
    if (this.externalCancel) {
      // A second request waits for the first one's outcome.
      const first = this.externalCancel;
      const settleFirst = first.settle;
      first.settle = (how) => {
        settleFirst(how);
        cancel.settle(how);
      };
      return;
    }
    this.externalCancel = cancel;
    this.wakeCancel(cancel);
  }

  /** Resolves when someone outside asks to cancel. */
  cancelled(): Promise<ExternalCancel> {
    return this.cancelRequested;
  }

  toExecutionMetrics(): ExecutionMetrics {
    const m = this.metrics;
    const u = (n: number) => BigInt(Math.max(0, Math.round(n)));
    return create(ExecutionMetricsSchema, {
      bytesIn: u(m.bytesIn),
      bytesOut: u(m.bytesOut),
      rowsIn: u(m.rowsIn),
      rowsOut: u(m.rowsOut),
      batchesIn: u(m.batchesIn),
      batchesOut: u(m.batchesOut),
      initWallNanos: u(m.initWallNs),
      processingWallNanos: u(m.processingWallNs),
      receiveWallNanos: u(m.receiveWallNs),
      sendWallNanos: u(m.sendWallNs),
      workWallNanos: u(m.workWallNs),
      workCpuNanos: u(m.workCpuNs),
    });
  }

  toProto(): Session {
    const m = this.metrics;
    return create(SessionSchema, {
      sessionId: this.id,
      state: this.state,
      stateEnteredAtMs: BigInt(this.stateEnteredAtMs),
      startedAtMs: BigInt(this.startedAtMs),
      udfName: this.udfName,
      udfFormat: this.udfFormat,
      taskContext: this.taskContext,
      threadId: this.thread?.name ?? "",
      progress: {
        rowsIn: BigInt(m.rowsIn),
        rowsOut: BigInt(m.rowsOut),
        batchesIn: BigInt(m.batchesIn),
        batchesOut: BigInt(m.batchesOut),
        bytesIn: BigInt(m.bytesIn),
        bytesOut: BigInt(m.bytesOut),
        lastProgressAtMs: BigInt(this.lastProgressAtMs),
      },
    });
  }
}
