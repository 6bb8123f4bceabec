import type { Init, UdfResponse } from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { UDFWorkerDataFormat } from "../../../gen/org/apache/spark/udf/worker/common_pb.js";
import { SessionState } from "../../../gen/stallwatch/v1/agent_pb.js";
import { parseUdfSpec, UdfSpecError } from "../udf/udf-spec.js";
import { kindOf } from "./inbox.js";
import { assemblePayload } from "./payload.js";
import { errors, respond } from "./responses.js";
import { endDuringUserCode, initFailure, initProtocolError } from "./session-endings.js";
import { failureToError, PayloadTooLarge, ProtocolViolation } from "./session-errors.js";
import type { SessionIo } from "./session-io.js";

/**
 * Reads Init (and its payload chunks), starts user code on a UDF thread and
 * answers InitResponse. False when the session already ended (a protocol
 * error, an init error, or a cancel during init).
 */
export async function* initPhase(io: SessionIo): AsyncGenerator<UdfResponse, boolean> {
  const first = await io.take();
  if (first.kind !== "message") {
    io.errorMessage = "the engine closed the stream before Init";
    return false;
  }
  const kind = kindOf(first.message);
  io.initReceivedAt = process.hrtime.bigint();
  if (
    kind !== "init" ||
    first.message.request.case !== "control" ||
    first.message.request.value.control.case !== "init"
  ) {
    const what = kind === "empty" ? "a message with no branch set" : `${kind} before Init`;
    yield* initProtocolError(io, `expected Init as the first message, got ${what}`);
    return false;
  }
  const init = first.message.request.value.control.value;
  describe(io, init);

  let payload: Uint8Array;
  try {
    payload = await assemblePayload(init, () => io.take(), io.host.maxPayloadBytes);
  } catch (err) {
    if (err instanceof ProtocolViolation) {
      yield* initProtocolError(io, err.message);
      return false;
    }
    if (err instanceof PayloadTooLarge) {
      yield* initFailure(io, errors.worker(err.message));
      return false;
    }
    throw err;
  }

  // proto3 enums are open: any number can arrive on the wire.
  const format: number = init.dataFormat;
  if (format !== (UDFWorkerDataFormat.ARROW as number)) {
    const name = format === 0 ? "UNSPECIFIED" : String(format);
    yield* initFailure(
      io,
      errors.worker(`data_format ${name} is not supported: this worker speaks ARROW`),
    );
    return false;
  }
  let spec;
  try {
    spec = parseUdfSpec(init.udf?.format ?? "", payload);
  } catch (err) {
    if (!(err instanceof UdfSpecError)) throw err;
    yield* initFailure(io, errors.worker(err.message));
    return false;
  }
  io.spec = spec;

  const thread = io.host.threads.acquire(`udf-${spec.fn}-${io.id}`);
  io.thread = thread;
  io.session.thread = thread;
  const started = await io.race(thread.init(spec, init.inputSchema));
  switch (started.kind) {
    case "done":
      io.addWork(started.value);
      break;
    case "failed":
      yield* initFailure(io, failureToError(started.failure));
      return false;
    default:
      yield* endDuringUserCode(io, started, true);
      return false;
  }
  io.session.metrics.initWallNs = Number(process.hrtime.bigint() - io.initReceivedAt);
  yield* io.send(respond.init());
  io.processingFrom = process.hrtime.bigint();
  io.session.enter(SessionState.WAITING_FOR_INPUT);
  return true;
}

/** What the agent shows about the session: UDF name, format and task context, capped. */
function describe(io: SessionIo, init: Init): void {
  io.session.udfName = (init.udf?.name ?? "").slice(0, 200);
  io.session.udfFormat = (init.udf?.format ?? "").slice(0, 200);
  const context: Record<string, string> = {};
  for (const [k, v] of Object.entries(init.taskContext).slice(0, 32))
    context[k.slice(0, 100)] = v.slice(0, 500);
  io.session.taskContext = context;
}
