import type {
  UdfRequest,
  UdfResponse,
} from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { SessionOutcome } from "../../../gen/stallwatch/v1/agent_pb.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { Clock } from "../../shared/clock/clock.js";
import type { LiveSession } from "../sessions/live-session.js";
import type { SessionRegistry } from "../sessions/session-registry.js";
import type { WorkerStats } from "../stats/worker-stats.js";
import type { WorkFigures } from "../udf/thread-messages.js";
import type { UdfSpec } from "../udf/udf-spec.js";
import type { UdfThreadHandle } from "../udf/udf-thread-handle.js";
import type { UdfThreadPool } from "../udf/udf-thread-pool.js";
import { Inbox, type Next } from "./inbox.js";
import { respond } from "./responses.js";
import { raceUserCode, type Race } from "./user-code-race.js";

export interface ExecuteHost {
  stats: WorkerStats;
  threads: UdfThreadPool;
  registry: SessionRegistry;
  log: Logger;
  clock: Clock;
  /** Largest assembled UDF payload accepted (bytes). */
  maxPayloadBytes: number;
  /** Grace before a non-yielding UDF's thread is terminated on an in-band Cancel. */
  cancelGraceMs: number;
  /** How long to wait for the engine's Cancel after an error before ending anyway. */
  cancelWaitMs: number;
}

/**
 * One Execute stream's shared state, read and written by its phases
 * (init-phase, source-phase, data-phase, session-endings): the engine's
 * messages, what we send, the measured metrics and how the session ended.
 */
export class SessionIo {
  readonly inbox: Inbox;
  readonly session: LiveSession;
  thread: UdfThreadHandle | undefined;
  spec: UdfSpec | undefined;
  initReceivedAt = 0n;
  processingFrom = 0n;
  /** Set by whichever ending happens; UNSPECIFIED at close means the stream died early. */
  outcome: SessionOutcome = SessionOutcome.UNSPECIFIED;
  errorMessage = "";
  finishRequested = false;
  /** Sequence number of the last batch handed to user code. */
  batchSeq = 0;
  /** Resolves when the transport breaks (the handler's signal aborts). */
  readonly broken: Promise<Error>;

  constructor(
    requests: AsyncIterable<UdfRequest>,
    readonly host: ExecuteHost,
    signal: AbortSignal,
  ) {
    this.inbox = new Inbox(requests);
    this.broken = new Promise((resolve) => {
      const onAbort = () =>
        resolve(
          new Error(
            signal.reason instanceof Error ? signal.reason.message : "the engine went away",
          ),
        );
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    this.session = host.registry.open();
    host.stats.activeSessions += 1;
    host.stats.sessionsStarted += 1;
  }

  get id(): string {
    return this.session.id;
  }

  take(): Promise<Next> {
    return this.inbox.take();
  }

  *send(response: UdfResponse): Generator<UdfResponse> {
    const started = process.hrtime.bigint();
    yield response;
    this.session.metrics.sendWallNs += Number(process.hrtime.bigint() - started);
  }

  *sendData(data: Uint8Array): Generator<UdfResponse> {
    this.session.metrics.bytesOut += data.length;
    this.host.stats.bytesOut += data.length;
    this.session.progressed();
    yield* this.send(respond.data(data));
  }

  addWork(figures: WorkFigures): void {
    this.session.metrics.workWallNs += figures.workNs;
    this.session.metrics.workCpuNs += figures.cpuNs;
  }

  /** Rows and batches user code emitted, in this session's metrics. */
  addOutput(out: { rowsOut: number; batchesOut: number }): void {
    this.session.metrics.rowsOut += out.rowsOut;
    this.session.metrics.batchesOut += out.batchesOut;
  }

  /** Waits for user code; see {@link raceUserCode}. */
  race<T>(work: Promise<T>): Promise<Race<T>> {
    return raceUserCode(work, {
      inbox: this.inbox,
      lifecycle: this.session.lifecycle,
      broken: this.broken,
    });
  }

  /** Records the outcome in the worker's counters and the registry; once, at the end. */
  close(): void {
    const stats = this.host.stats;
    stats.activeSessions = Math.max(0, stats.activeSessions - 1);
    if (this.outcome === SessionOutcome.UNSPECIFIED) this.outcome = SessionOutcome.FAILED;
    if (this.outcome === SessionOutcome.FINISHED) stats.sessionsFinished += 1;
    else if (this.outcome === SessionOutcome.CANCELLED) stats.sessionsCancelled += 1;
    else stats.sessionsFailed += 1;
    this.host.registry.close(
      this.session,
      this.outcome,
      this.session.toExecutionMetrics(),
      this.errorMessage,
    );
  }
}
