import type { ExecutionError } from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import type { CancelRequest, StopHow } from "../sessions/session-lifecycle.js";
import { UdfFailure } from "../udf/udf-thread-handle.js";
import { errors } from "./responses.js";

/** A protocol violation by the engine: ProtocolError, then CancelResponse. */
export class ProtocolViolation extends Error {}

/** The transport broke: the session ends as a cancel and sends nothing more. */
export class StreamBroken extends Error {}

/** The assembled UDF payload is over the worker's limit (an init error, not a violation). */
export class PayloadTooLarge extends Error {}

export function describeError(error: ExecutionError): string {
  return error.kind.value?.message ?? "unknown error";
}

/** How a failed call into user code is reported to the engine. */
export function failureToError(failure: UdfFailure): ExecutionError {
  if (failure.kind === "data") return errors.worker(failure.message);
  if (failure.kind === "terminated") return errors.worker(failure.message);
  return errors.user(failure.message, failure.traceback, failure.errorClass);
}

/** The WorkerError message for a cancel from outside the stream. */
export function cancelMessage(cancel: CancelRequest, how?: StopHow): string {
  const who = cancel.by === "operator" ? "an operator" : "worker shutdown";
  const escalation =
    how === "terminated"
      ? `; user code did not yield within ${cancel.graceMs} ms and its thread was terminated`
      : "";
  return `session cancelled by ${who}: ${cancel.reason}${escalation}`;
}
