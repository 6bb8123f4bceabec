import type {
  ExecutionError,
  Init,
  UdfRequest,
  UdfResponse,
} from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { UDFWorkerDataFormat } from "../../../gen/org/apache/spark/udf/worker/common_pb.js";
import { SessionOutcome, SessionState } from "../../../gen/stallwatch/v1/agent_pb.js";
import type { Logger } from "../../shared/logging/logger.js";
import type { ExternalCancel, LiveSession } from "../sessions/live-session.js";
import type { SessionRegistry } from "../sessions/session-registry.js";
import { parseUdfSpec, UdfSpecError, type UdfSpec } from "../udf/udf-spec.js";
import { UdfFailure, type UdfThreadHandle } from "../udf/udf-thread-handle.js";
import type { UdfThreadPool } from "../udf/udf-thread-pool.js";
import type { WorkFigures } from "../udf/thread-messages.js";
import type { WorkerStats } from "../stats/worker-stats.js";
import { crc32 } from "./crc32.js";
import { Inbox, kindOf, type Next } from "./inbox.js";
import { errors, respond } from "./responses.js";

export interface ExecuteHost {
  stats: WorkerStats;
  threads: UdfThreadPool;
  registry: SessionRegistry;
  log: Logger;
  /** Largest assembled UDF payload accepted (bytes). */
  maxPayloadBytes: number;
  /** Grace before a non-yielding UDF's thread is terminated on an in-band Cancel. */
  cancelGraceMs: number;
  /** How long to wait for the engine's Cancel after an error before ending anyway. */
  cancelWaitMs: number;
}

/** A protocol violation by the engine: ProtocolError, then CancelResponse. */
class ProtocolViolation extends Error {}

/** What ended a wait on user code. */
type Race<T> =
  | { kind: "done"; value: T }
  | { kind: "failed"; failure: UdfFailure }
  | { kind: "engineCancel" }
  | { kind: "external"; cancel: ExternalCancel }
  | { kind: "broken"; error: Error }
  | { kind: "violation"; message: string };

/**
 * One Execute stream, the worker's side of the Spark UDF protocol
 * (shared/spec/udf-protocol.md, "Execute stream rules"):
 *
 * engine: Init, PayloadChunk* (when chunking), DataRequest*, Finish — or Cancel
 * at any point (also after Finish, never before it).
 * worker: one InitResponse, DataResponse*, at most one ErrorResponse, then
 * exactly one terminator (FinishResponse or CancelResponse).
 *
 * A transport error ends the session as a cancel, with nothing more sent.
 */
export class ExecuteSession {
  private readonly inbox: Inbox;
  private readonly session: LiveSession;
  private thread: UdfThreadHandle | undefined;
  private spec: UdfSpec | undefined;
  private seq = 0;
  private initReceivedAt = 0n;
  private processingFrom = 0n;
  /** Set by whichever ending happens; UNSPECIFIED at close means the stream died early. */
  private outcome: SessionOutcome = SessionOutcome.UNSPECIFIED;
  private errorMessage = "";
  private finishRequested = false;

  /** Resolves when the transport breaks (the handler's signal aborts). */
  private readonly broken: Promise<Error>;

  constructor(
    requests: AsyncIterable<UdfRequest>,
    private readonly host: ExecuteHost,
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

  async *run(): AsyncGenerator<UdfResponse> {
    try {
      const ready = yield* this.initPhase();
      if (!ready) return;
      yield* this.dataPhase();
    } catch (err) {
      if (err instanceof ProtocolViolation) {
        yield* this.abort(errors.protocol(err.message), "error-then-cancel", true);
      } else if (err instanceof StreamBroken) {
        // The transport broke: clean up as for Cancel and send nothing more.
        this.outcome = SessionOutcome.CANCELLED;
        this.errorMessage = `stream broke: ${err.message}`;
      } else {
        this.host.log.error({ err, session: this.id }, "session failed inside the worker");
        yield* this.abort(
          errors.worker(`internal worker error: ${(err as Error).message}`),
          "error-then-cancel",
          true,
        );
      }
    } finally {
      if (this.thread) await this.host.threads.release(this.thread);
      this.close();
    }
  }

  // ---- init -------------------------------------------------------------

  /** Reads Init (and chunks), starts user code, answers InitResponse. False when the session already ended. */
  private async *initPhase(): AsyncGenerator<UdfResponse, boolean> {
    const first = await this.take();
    if (first.kind !== "message") {
      this.errorMessage = "the engine closed the stream before Init";
      return false;
    }
    const kind = kindOf(first.message);
    this.initReceivedAt = process.hrtime.bigint();
    if (
      kind !== "init" ||
      first.message.request.case !== "control" ||
      first.message.request.value.control.case !== "init"
    ) {
      const what = kind === "empty" ? "a message with no branch set" : `${kind} before Init`;
      yield* this.initProtocolError(`expected Init as the first message, got ${what}`);
      return false;
    }
    const init = first.message.request.value.control.value;
    this.describe(init);

    let payload: Uint8Array;
    try {
      payload = await this.assemblePayload(init);
    } catch (err) {
      if (err instanceof ProtocolViolation) {
        yield* this.initProtocolError(err.message);
        return false;
      }
      if (err instanceof PayloadTooLarge) {
        yield* this.initFailure(errors.worker(err.message));
        return false;
      }
      throw err;
    }

    // proto3 enums are open: any number can arrive on the wire.
    const format: number = init.dataFormat;
    if (format !== (UDFWorkerDataFormat.ARROW as number)) {
      const name = format === 0 ? "UNSPECIFIED" : String(format);
      yield* this.initFailure(
        errors.worker(`data_format ${name} is not supported: this worker speaks ARROW`),
      );
      return false;
    }
    try {
      this.spec = parseUdfSpec(init.udf?.format ?? "", payload);
    } catch (err) {
      if (!(err instanceof UdfSpecError)) throw err;
      yield* this.initFailure(errors.worker(err.message));
      return false;
    }

    const thread = this.host.threads.acquire(`udf-${this.spec.fn}-${this.id}`);
    this.thread = thread;
    this.session.thread = thread;
    const started = await this.race(thread.init(this.spec, init.inputSchema));
    switch (started.kind) {
      case "done":
        this.addWork(started.value);
        break;
      case "failed":
        yield* this.initFailure(this.failureToError(started.failure));
        return false;
      default:
        yield* this.endDuringUserCode(started, true);
        return false;
    }
    this.session.metrics.initWallNs = Number(process.hrtime.bigint() - this.initReceivedAt);
    yield* this.send(respond.init());
    this.processingFrom = process.hrtime.bigint();
    this.session.enter(SessionState.WAITING_FOR_INPUT);
    return true;
  }

  private describe(init: Init): void {
    this.session.udfName = (init.udf?.name ?? "").slice(0, 200);
    this.session.udfFormat = (init.udf?.format ?? "").slice(0, 200);
    const context: Record<string, string> = {};
    for (const [k, v] of Object.entries(init.taskContext).slice(0, 32))
      context[k.slice(0, 100)] = v.slice(0, 500);
    this.session.taskContext = context;
  }

  /** Inline payload then chunks in order, checked against size, CRC and the limit. */
  private async assemblePayload(init: Init): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let size = 0;
    const add = (bytes: Uint8Array) => {
      size += bytes.length;
      if (size > this.host.maxPayloadBytes) {
        throw new PayloadTooLarge(
          `UDF payload is larger than this worker's limit of ${this.host.maxPayloadBytes} bytes`,
        );
      }
      parts.push(bytes);
    };
    add(init.udf?.payload ?? new Uint8Array());
    if (init.isChunkingPayload) {
      for (;;) {
        const next = await this.take();
        if (next.kind !== "message")
          throw new ProtocolViolation("the stream ended before the payload chunk with last=true");
        const m = next.message.request;
        if (m.case !== "control" || m.value.control.case !== "payload") {
          throw new ProtocolViolation(
            `expected PayloadChunk while the payload is chunked, got ${kindOf(next.message)}`,
          );
        }
        add(m.value.control.value.data);
        if (m.value.control.value.last) break;
      }
    }
    const payload = concat(parts, size);
    const udf = init.udf;
    if (udf?.payloadSize !== undefined && BigInt(payload.length) !== udf.payloadSize) {
      throw new ProtocolViolation(
        `payload_size says ${udf.payloadSize} bytes, the assembled payload has ${payload.length}`,
      );
    }
    if (udf?.payloadCrc32 !== undefined) {
      const actual = crc32(payload);
      if (actual !== udf.payloadCrc32) {
        throw new ProtocolViolation(
          `payload_crc32 mismatch: expected ${hex32(udf.payloadCrc32)}, the assembled payload has ${hex32(actual)}`,
        );
      }
    }
    return payload;
  }

  /** A protocol error during init: InitResponse{error}, then the stream closes with CancelResponse. */
  private *initProtocolError(message: string): Generator<UdfResponse> {
    this.errorMessage = message;
    this.host.log.warn({ session: this.id, problem: message }, "protocol error from the engine");
    yield* this.send(respond.init(errors.protocol(message)));
    yield* this.send(respond.cancel(this.session.toExecutionMetrics()));
    this.outcome = SessionOutcome.FAILED;
  }

  /** A failed init: InitResponse{error}; the engine then sends Cancel and we end with CancelResponse. */
  private async *initFailure(error: ExecutionError): AsyncGenerator<UdfResponse> {
    this.errorMessage = describeError(error);
    this.session.metrics.initWallNs = Number(process.hrtime.bigint() - this.initReceivedAt);
    yield* this.send(respond.init(error));
    yield* this.awaitEngineCancel();
  }

  // ---- data -------------------------------------------------------------

  private async *dataPhase(): AsyncGenerator<UdfResponse> {
    const spec = this.spec;
    const thread = this.thread;
    if (!spec || !thread) return;

    if (spec.fn === "generate") {
      // A generator emits before (and without) any DataRequest.
      this.session.enter(SessionState.PROCESSING);
      const generated: Uint8Array[] = [];
      let wake: (() => void) | undefined;
      const done = thread.generate(spec.fn, (g) => {
        this.session.metrics.rowsOut += g.rowsOut;
        this.session.metrics.batchesOut += g.batchesOut;
        generated.push(g.data);
        wake?.();
      });
      const progress = { finished: false };
      const settled = done.then(
        (figures) => {
          this.addWork(figures);
          progress.finished = true;
          wake?.();
        },
        () => {
          progress.finished = true;
          wake?.();
        },
      );
      while (!progress.finished || generated.length > 0) {
        const data = generated.shift();
        if (data) {
          yield* this.sendData(data);
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
      const result = await this.race(done.then((v) => v));
      await settled;
      if (result.kind === "failed") {
        yield* this.abort(this.failureToError(result.failure), "error-then-await-cancel");
        return;
      }
      if (result.kind !== "done") {
        yield* this.endDuringUserCode(result, false);
        return;
      }
      this.session.enter(SessionState.WAITING_FOR_INPUT);
    }

    for (;;) {
      const next = yield* this.waitForEngine();
      if (next === undefined) return;
      const message = next;
      const kind = kindOf(message);
      switch (kind) {
        case "data": {
          if (message.request.case !== "data") return;
          if (this.finishRequested) throw new ProtocolViolation("DataRequest after Finish");
          const data = message.request.value.data;
          this.session.metrics.bytesIn += data.length;
          this.host.stats.bytesIn += data.length;
          this.session.enter(SessionState.PROCESSING);
          const result = await this.race(thread.process(++this.seq, data, spec.fn));
          if (result.kind === "failed") {
            yield* this.abort(this.failureToError(result.failure), "error-then-await-cancel");
            return;
          }
          if (result.kind !== "done") {
            yield* this.endDuringUserCode(result, false);
            return;
          }
          const out = result.value;
          this.addWork(out);
          this.session.metrics.rowsIn += out.rowsIn;
          this.session.metrics.batchesIn += out.batchesIn;
          this.host.stats.rowsIn += out.rowsIn;
          this.session.metrics.rowsOut += out.rowsOut;
          this.session.metrics.batchesOut += out.batchesOut;
          this.host.stats.rowsOut += out.rowsOut;
          this.session.progressed();
          if (out.data) yield* this.sendData(out.data);
          this.session.enter(SessionState.WAITING_FOR_INPUT);
          break;
        }
        case "finish": {
          if (this.finishRequested) throw new ProtocolViolation("a second Finish");
          this.finishRequested = true;
          this.session.enter(SessionState.FINISHING);
          const result = await this.race(thread.finish(spec.fn));
          if (result.kind === "failed") {
            // Errors inside the finish callback travel in FinishResponse.error.
            const error = this.failureToError(result.failure);
            this.errorMessage = describeError(error);
            this.outcome = SessionOutcome.FAILED;
            yield* this.terminate("finish", error);
            return;
          }
          if (result.kind !== "done") {
            yield* this.endDuringUserCode(result, false);
            return;
          }
          this.addWork(result.value);
          this.session.metrics.rowsOut += result.value.rowsOut;
          this.session.metrics.batchesOut += result.value.batchesOut;
          if (result.value.data) yield* this.sendData(result.value.data);
          // Finish then Cancel: a Cancel that arrived before the FinishResponse wins.
          if (await this.cancelIsWaiting()) {
            await this.take();
            yield* this.terminate("cancel");
            return;
          }
          this.outcome = SessionOutcome.FINISHED;
          yield* this.terminate("finish");
          return;
        }
        case "cancel":
          yield* this.terminate("cancel");
          return;
        case "init":
          throw new ProtocolViolation("a second Init");
        case "payload":
          throw new ProtocolViolation("PayloadChunk after InitResponse");
        case "empty":
          throw new ProtocolViolation("a message with no branch set");
      }
    }
  }

  /** The engine's next message, or an external cancel, while no user code runs. */
  private async *waitForEngine(): AsyncGenerator<UdfResponse, UdfRequest | undefined> {
    const external = this.session.cancelled().then((cancel) => ({ external: cancel }));
    const next = await Promise.race([this.inbox.peek().then((n) => ({ next: n })), external]);
    if ("external" in next) {
      next.external.settle("idle");
      yield* this.abort(errors.worker(cancelMessage(next.external)), "error-then-cancel", true);
      return undefined;
    }
    const taken = await this.take();
    if (taken.kind === "end")
      throw new ProtocolViolation("the engine closed its side before Finish or Cancel");
    if (taken.kind === "broken") throw new StreamBroken(taken.error.message);
    return taken.message;
  }

  /** Is a Cancel already waiting in the stream (read-ahead, without waiting)? */
  private async cancelIsWaiting(): Promise<boolean> {
    const next = await Promise.race([
      this.inbox.peek(),
      new Promise<undefined>((r) => setImmediate(() => r(undefined))),
    ]);
    return next?.kind === "message" && kindOf(next.message) === "cancel";
  }

  /**
   * Waits for user code while watching for a Cancel from the engine (read one
   * ahead), an external cancel, or a broken stream. A DataRequest or Finish
   * read ahead stays in the inbox for after user code is done.
   */
  private async race<T>(work: Promise<T>): Promise<Race<T>> {
    const settled = work.then(
      (value): Race<T> => ({ kind: "done", value }),
      (err: unknown): Race<T> =>
        err instanceof UdfFailure
          ? { kind: "failed", failure: err }
          : { kind: "failed", failure: new UdfFailure("user", String(err)) },
    );
    const external = this.session
      .cancelled()
      .then((cancel): Race<T> => ({ kind: "external", cancel }));
    const ahead = this.inbox.peek().then((next): Race<T> | "later" => {
      if (next.kind === "broken") return { kind: "broken", error: next.error };
      if (next.kind === "end") return "later";
      const kind = kindOf(next.message);
      if (kind === "cancel") return { kind: "engineCancel" };
      if (kind === "init") return { kind: "violation", message: "a second Init" };
      if (kind === "payload")
        return { kind: "violation", message: "PayloadChunk after InitResponse" };
      if (kind === "empty") return { kind: "violation", message: "a message with no branch set" };
      return "later";
    });
    const broken = this.broken.then((error): Race<T> => ({ kind: "broken", error }));
    const first = await Promise.race([settled, external, ahead, broken]);
    if (first === "later") return Promise.race([settled, external, broken]);
    if (first.kind === "engineCancel") await this.take();
    return first;
  }

  /** User code was interrupted by a cancel, a broken stream or a violation. */
  private async *endDuringUserCode(
    result: Exclude<Race<unknown>, { kind: "done" } | { kind: "failed" }>,
    duringInit: boolean,
  ): AsyncGenerator<UdfResponse> {
    const thread = this.thread;
    switch (result.kind) {
      case "engineCancel": {
        this.session.enter(SessionState.CANCELLING);
        const how = await thread?.cancel(this.host.cancelGraceMs);
        this.host.log.info({ session: this.id, how }, "cancelled by the engine");
        if (duringInit)
          yield* this.send(respond.init(errors.worker("cancelled by the engine during init")));
        yield* this.terminate("cancel");
        return;
      }
      case "external": {
        this.session.enter(SessionState.CANCELLING);
        const how = (await thread?.cancel(result.cancel.graceMs)) ?? "idle";
        result.cancel.settle(how);
        this.host.log.info(
          { session: this.id, how, by: result.cancel.by, reason: result.cancel.reason },
          "cancelled from outside the stream",
        );
        if (duringInit) yield* this.send(respond.init(errors.worker(cancelMessage(result.cancel))));
        yield* this.abort(
          errors.worker(cancelMessage(result.cancel, how)),
          "error-then-cancel",
          !duringInit,
        );
        return;
      }
      case "broken":
        await thread?.terminate();
        throw new StreamBroken(result.error.message);
      case "violation":
        await thread?.terminate();
        if (duringInit) {
          yield* this.initProtocolError(result.message);
          return;
        }
        throw new ProtocolViolation(result.message);
    }
  }

  // ---- endings ------------------------------------------------------------

  /**
   * An error after InitResponse: one ErrorResponse, then either CancelResponse
   * right away (protocol errors, aborts by the worker) or once the engine's
   * Cancel arrives (user errors: the engine aborts the session).
   */
  private async *abort(
    error: ExecutionError,
    mode: "error-then-cancel" | "error-then-await-cancel",
    sendError = true,
  ): AsyncGenerator<UdfResponse> {
    this.errorMessage = describeError(error);
    this.outcome = error.kind.case === "worker" ? SessionOutcome.CANCELLED : SessionOutcome.FAILED;
    if (error.kind.case === "protocol")
      this.host.log.warn(
        { session: this.id, problem: this.errorMessage },
        "protocol error from the engine",
      );
    if (sendError) yield* this.send(respond.error(error));
    if (mode === "error-then-await-cancel") yield* this.awaitEngineCancel();
    else yield* this.terminate("cancel", undefined, false);
  }

  /** After an error, the engine sends Cancel (after Finish if it sent one); answer it. Bounded. */
  private async *awaitEngineCancel(): AsyncGenerator<UdfResponse> {
    const deadline = Date.now() + this.host.cancelWaitMs;
    for (;;) {
      const remaining = deadline - Date.now();
      const next = await Promise.race([
        this.take(),
        new Promise<"timeout">((r) =>
          setTimeout(() => r("timeout"), Math.max(0, remaining)).unref(),
        ),
      ]);
      if (next === "timeout") {
        this.host.log.warn(
          { session: this.id },
          "no Cancel from the engine after an error; ending the session",
        );
        break;
      }
      if (next.kind === "broken") throw new StreamBroken(next.error.message);
      if (next.kind === "end") break;
      if (kindOf(next.message) === "cancel") break;
      // Data or Finish already in flight before our error reached the engine: ignored.
    }
    yield* this.terminate("cancel", undefined, false);
  }

  /** Sends the terminator with the session's metrics. */
  private *terminate(
    which: "finish" | "cancel",
    error?: ExecutionError,
    cancelled = true,
  ): Generator<UdfResponse> {
    if (this.processingFrom > 0n)
      this.session.metrics.processingWallNs = Number(process.hrtime.bigint() - this.processingFrom);
    this.session.metrics.receiveWallNs = this.inbox.waitedNs;
    if (which === "cancel" && cancelled && this.outcome !== SessionOutcome.FAILED)
      this.outcome = SessionOutcome.CANCELLED;
    const metrics = this.session.toExecutionMetrics();
    if (which === "finish") {
      const response = respond.finish(metrics);
      if (
        error &&
        response.response.case === "control" &&
        response.response.value.control.case === "finish"
      ) {
        response.response.value.control.value.error = error;
      }
      yield* this.send(response);
    } else {
      yield* this.send(respond.cancel(metrics));
    }
  }

  // ---- plumbing -----------------------------------------------------------

  private async take(): Promise<Next> {
    return this.inbox.take();
  }

  private *send(response: UdfResponse): Generator<UdfResponse> {
    const started = process.hrtime.bigint();
    yield response;
    this.session.metrics.sendWallNs += Number(process.hrtime.bigint() - started);
  }

  private *sendData(data: Uint8Array): Generator<UdfResponse> {
    this.session.metrics.bytesOut += data.length;
    this.host.stats.bytesOut += data.length;
    this.session.progressed();
    yield* this.send(respond.data(data));
  }

  private addWork(figures: WorkFigures): void {
    this.session.metrics.workWallNs += figures.workNs;
    this.session.metrics.workCpuNs += figures.cpuNs;
  }

  private failureToError(failure: UdfFailure): ExecutionError {
    if (failure.kind === "data") return errors.worker(failure.message);
    if (failure.kind === "terminated") return errors.worker(failure.message);
    return errors.user(failure.message, failure.traceback, failure.errorClass);
  }

  private close(): void {
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

class StreamBroken extends Error {}
class PayloadTooLarge extends Error {}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1 && parts[0]) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

function describeError(error: ExecutionError): string {
  return error.kind.value?.message ?? "unknown error";
}

function cancelMessage(cancel: ExternalCancel, how?: string): string {
  const who = cancel.by === "operator" ? "an operator" : "worker shutdown";
  const escalation =
    how === "terminated"
      ? `; user code did not yield within ${cancel.graceMs} ms and its thread was terminated`
      : "";
  return `session cancelled by ${who}: ${cancel.reason}${escalation}`;
}
