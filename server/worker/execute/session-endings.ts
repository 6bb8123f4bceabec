import type {
  ExecutionError,
  UdfResponse,
} from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { SessionOutcome, SessionState } from "../../../gen/stallwatch/v1/agent_pb.js";
import { errors, respond } from "./responses.js";
import {
  cancelMessage,
  describeError,
  failureToError,
  ProtocolViolation,
  StreamBroken,
} from "./session-errors.js";
import type { CancelRequest } from "../sessions/session-lifecycle.js";
import type { Timer } from "../../shared/clock/clock.js";
import type { UdfFailure } from "../udf/udf-thread-handle.js";
import type { SessionIo } from "./session-io.js";
import { kindOf } from "./inbox.js";
import type { Interruption, Race } from "./user-code-race.js";

/**
 * How an Execute stream ends (shared/spec/udf-protocol.md): at most one
 * ErrorResponse, then exactly one terminator carrying the measured metrics.
 */

/** Sends the terminator (FinishResponse or CancelResponse) with the session's metrics. */
export function* terminate(
  io: SessionIo,
  which: "finish" | "cancel",
  error?: ExecutionError,
  cancelled = true,
): Generator<UdfResponse> {
  const m = io.session.metrics;
  if (io.processingFrom > 0n)
    m.processingWallNs = Number(process.hrtime.bigint() - io.processingFrom);
  m.receiveWallNs = io.inbox.waitedNs;
  if (which === "cancel" && cancelled && io.outcome !== SessionOutcome.FAILED)
    io.outcome = SessionOutcome.CANCELLED;
  const metrics = io.session.toExecutionMetrics();
  if (which === "cancel") {
    yield* io.send(respond.cancel(metrics));
    return;
  }
  const response = respond.finish(metrics);
  if (
    error &&
    response.response.case === "control" &&
    response.response.value.control.case === "finish"
  ) {
    response.response.value.control.value.error = error;
  }
  yield* io.send(response);
}

/**
 * An error after InitResponse: one ErrorResponse, then either CancelResponse
 * right away (protocol errors, aborts by the worker) or once the engine's
 * Cancel arrives (user errors: the engine aborts the session).
 */
export async function* abort(
  io: SessionIo,
  error: ExecutionError,
  mode: "error-then-cancel" | "error-then-await-cancel",
  sendError = true,
): AsyncGenerator<UdfResponse> {
  io.errorMessage = describeError(error);
  io.outcome = error.kind.case === "worker" ? SessionOutcome.CANCELLED : SessionOutcome.FAILED;
  if (error.kind.case === "protocol")
    io.host.log.warn(
      { session: io.id, problem: io.errorMessage },
      "protocol error from the engine",
    );
  if (sendError) yield* io.send(respond.error(error));
  if (mode === "error-then-await-cancel") yield* awaitEngineCancel(io);
  else yield* terminate(io, "cancel", undefined, false);
}

/** After an error, the engine sends Cancel (after Finish if it sent one); answer it. Bounded. */
export async function* awaitEngineCancel(io: SessionIo): AsyncGenerator<UdfResponse> {
  const { clock } = io.host;
  const deadline = clock.now() + io.host.cancelWaitMs;
  for (;;) {
    let stopTimer: Timer | undefined;
    const next = await Promise.race([
      io.take(),
      new Promise<"timeout">((r) => {
        stopTimer = clock.after(deadline - clock.now(), () => r("timeout"));
      }),
    ]);
    stopTimer?.cancel();
    if (next === "timeout") {
      io.host.log.warn(
        { session: io.id },
        "no Cancel from the engine after an error; ending the session",
      );
      break;
    }
    if (next.kind === "broken") throw new StreamBroken(next.error.message);
    if (next.kind === "end") break;
    if (kindOf(next.message) === "cancel") break;
    // Data or Finish already in flight before our error reached the engine: ignored.
  }
  yield* terminate(io, "cancel", undefined, false);
}

/** A protocol error during init: InitResponse{error}, then the stream closes with CancelResponse. */
export function* initProtocolError(io: SessionIo, message: string): Generator<UdfResponse> {
  io.errorMessage = message;
  io.host.log.warn({ session: io.id, problem: message }, "protocol error from the engine");
  yield* io.send(respond.init(errors.protocol(message)));
  yield* io.send(respond.cancel(io.session.toExecutionMetrics()));
  io.outcome = SessionOutcome.FAILED;
}

/** A failed init: InitResponse{error}; the engine then sends Cancel and we end with CancelResponse. */
export async function* initFailure(
  io: SessionIo,
  error: ExecutionError,
): AsyncGenerator<UdfResponse> {
  io.errorMessage = describeError(error);
  io.session.metrics.initWallNs = Number(process.hrtime.bigint() - io.initReceivedAt);
  yield* io.send(respond.init(error));
  yield* awaitEngineCancel(io);
}

/**
 * User code was interrupted by a cancel (the engine's or an outside one), a
 * broken stream or a violation. Every one of them stops user code through
 * the session's lifecycle, then ends the stream the protocol's way.
 */
export async function* endDuringUserCode(
  io: SessionIo,
  result: Interruption,
  duringInit: boolean,
): AsyncGenerator<UdfResponse> {
  const { lifecycle } = io.session;
  switch (result.kind) {
    case "engineCancel": {
      io.session.enter(SessionState.CANCELLING);
      const how = await lifecycle.stopUserCode(io.thread, io.host.cancelGraceMs);
      io.host.log.info({ session: io.id, how }, "cancelled by the engine");
      if (duringInit)
        yield* io.send(respond.init(errors.worker("cancelled by the engine during init")));
      yield* terminate(io, "cancel");
      return;
    }
    case "external": {
      io.session.enter(SessionState.CANCELLING);
      const how = await lifecycle.stopUserCode(io.thread, result.cancel.graceMs);
      io.host.log.info(
        { session: io.id, how, by: result.cancel.by, reason: result.cancel.reason },
        "cancelled from outside the stream",
      );
      if (duringInit) yield* io.send(respond.init(errors.worker(cancelMessage(result.cancel))));
      yield* abort(
        io,
        errors.worker(cancelMessage(result.cancel, how)),
        "error-then-cancel",
        !duringInit,
      );
      return;
    }
    case "broken":
      // Nobody is left to answer: user code gets no grace.
      await lifecycle.stopUserCode(io.thread, 0);
      throw new StreamBroken(result.error.message);
    case "violation":
      await lifecycle.stopUserCode(io.thread, 0);
      if (duringInit) {
        yield* initProtocolError(io, result.message);
        return;
      }
      throw new ProtocolViolation(result.message);
  }
}

/** An outside cancel picked up between batches: no user code to stop, the stream ends. */
export async function* cancelledWhileIdle(
  io: SessionIo,
  cancel: CancelRequest,
): AsyncGenerator<UdfResponse> {
  await io.session.lifecycle.stopUserCode(io.thread, cancel.graceMs);
  yield* abort(io, errors.worker(cancelMessage(cancel)), "error-then-cancel", true);
}

/** User code's finish raised: the error travels in FinishResponse.error. */
export function* finishFailed(io: SessionIo, failure: UdfFailure): Generator<UdfResponse> {
  const error = failureToError(failure);
  io.errorMessage = describeError(error);
  io.outcome = SessionOutcome.FAILED;
  yield* terminate(io, "finish", error);
}

/**
 * The value of a call into user code after InitResponse, or undefined once
 * the session has ended over it: a user error (ErrorResponse, then the
 * engine's Cancel) or an interruption.
 */
export async function* valueOrEnd<T>(
  io: SessionIo,
  result: Race<T>,
): AsyncGenerator<UdfResponse, T | undefined> {
  if (result.kind === "done") return result.value;
  if (result.kind === "failed")
    yield* abort(io, failureToError(result.failure), "error-then-await-cancel");
  else yield* endDuringUserCode(io, result, false);
  return undefined;
}
