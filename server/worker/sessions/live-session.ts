import { create } from "@bufbuild/protobuf";
import {
  ExecutionMetricsSchema,
  type ExecutionMetrics,
} from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { SessionSchema, SessionState, type Session } from "../../../gen/stallwatch/v1/agent_pb.js";
import type { Clock } from "../../shared/clock/clock.js";
import type { UdfThreadHandle } from "../udf/udf-thread-handle.js";
import { SessionLifecycle } from "./session-lifecycle.js";

/**
 * One Execute stream's live state: what the agent reports about it, and its
 * cancel path ({@link SessionLifecycle}). Counters are measured, never taken
 * from the engine.
 */
export class LiveSession {
  state = SessionState.INITIALIZING;
  stateEnteredAtMs: number;
  readonly startedAtMs: number;
  udfName = "";
  udfFormat = "";
  taskContext: Record<string, string> = {};
  thread: UdfThreadHandle | undefined;
  lastProgressAtMs: number;
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
  readonly lifecycle: SessionLifecycle;

  constructor(
    readonly id: string,
    private readonly clock: Clock,
  ) {
    this.startedAtMs = clock.now();
    this.stateEnteredAtMs = this.startedAtMs;
    this.lastProgressAtMs = this.startedAtMs;
    this.lifecycle = new SessionLifecycle({ clock });
  }

  enter(state: SessionState): void {
    if (this.state === state) return;
    this.state = state;
    this.stateEnteredAtMs = this.clock.now();
  }

  progressed(): void {
    this.lastProgressAtMs = this.clock.now();
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
