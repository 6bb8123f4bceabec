import type {
  UdfRequest,
  UdfResponse,
} from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { SessionOutcome, SessionState } from "../../../gen/stallwatch/v1/agent_pb.js";
import type { UdfSpec } from "../udf/udf-spec.js";
import type { UdfThreadHandle } from "../udf/udf-thread-handle.js";
import { kindOf } from "./inbox.js";
import {
  cancelledWhileIdle,
  endDuringUserCode,
  finishFailed,
  terminate,
  valueOrEnd,
} from "./session-endings.js";
import { ProtocolViolation, StreamBroken } from "./session-errors.js";
import type { SessionIo } from "./session-io.js";

/**
 * After InitResponse: DataRequests through user code, then Finish (or
 * Cancel at any point), until the session has sent its terminator.
 */
export async function* dataPhase(
  io: SessionIo,
  spec: UdfSpec,
  thread: UdfThreadHandle,
): AsyncGenerator<UdfResponse> {
  for (;;) {
    const message = yield* waitForEngine(io);
    if (message === undefined) return;
    switch (kindOf(message)) {
      case "data":
        if (message.request.case !== "data") return;
        if (!(yield* processBatch(io, spec, thread, message.request.value.data))) return;
        break;
      case "finish":
        yield* finish(io, spec, thread);
        return;
      case "cancel":
        yield* terminate(io, "cancel");
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

/** One DataRequest through user code; false when the session ended over it. */
async function* processBatch(
  io: SessionIo,
  spec: UdfSpec,
  thread: UdfThreadHandle,
  data: Uint8Array,
): AsyncGenerator<UdfResponse, boolean> {
  if (io.finishRequested) throw new ProtocolViolation("DataRequest after Finish");
  const { metrics } = io.session;
  const { stats } = io.host;
  metrics.bytesIn += data.length;
  stats.bytesIn += data.length;
  io.session.enter(SessionState.PROCESSING);
  const seq = ++io.batchSeq;
  const out = yield* valueOrEnd(io, await io.race(thread.process(seq, data, spec.fn)));
  if (out === undefined) return false;
  io.addWork(out);
  metrics.rowsIn += out.rowsIn;
  metrics.batchesIn += out.batchesIn;
  stats.rowsIn += out.rowsIn;
  io.addOutput(out);
  stats.rowsOut += out.rowsOut;
  io.session.progressed();
  if (out.data) yield* io.sendData(out.data);
  io.session.enter(SessionState.WAITING_FOR_INPUT);
  return true;
}

/** Finish: user code's finish, then FinishResponse; a Cancel read ahead before it wins. */
async function* finish(
  io: SessionIo,
  spec: UdfSpec,
  thread: UdfThreadHandle,
): AsyncGenerator<UdfResponse> {
  if (io.finishRequested) throw new ProtocolViolation("a second Finish");
  io.finishRequested = true;
  io.session.enter(SessionState.FINISHING);
  const result = await io.race(thread.finish(spec.fn));
  if (result.kind === "failed") {
    yield* finishFailed(io, result.failure);
    return;
  }
  if (result.kind !== "done") {
    yield* endDuringUserCode(io, result, false);
    return;
  }
  io.addWork(result.value);
  io.addOutput(result.value);
  if (result.value.data) yield* io.sendData(result.value.data);
  // Finish then Cancel: a Cancel that arrived before the FinishResponse wins.
  if (await cancelIsWaiting(io)) {
    await io.take();
    yield* terminate(io, "cancel");
    return;
  }
  io.outcome = SessionOutcome.FINISHED;
  yield* terminate(io, "finish");
}

/** The engine's next message, or an outside cancel, while no user code runs. */
async function* waitForEngine(io: SessionIo): AsyncGenerator<UdfResponse, UdfRequest | undefined> {
  const { lifecycle } = io.session;
  const external = lifecycle.asked().then((cancel) => ({ external: cancel }));
  const next = await Promise.race([io.inbox.peek().then((n) => ({ next: n })), external]);
  if ("external" in next) {
    yield* cancelledWhileIdle(io, next.external);
    return undefined;
  }
  const taken = await io.take();
  if (taken.kind === "end")
    throw new ProtocolViolation("the engine closed its side before Finish or Cancel");
  if (taken.kind === "broken") throw new StreamBroken(taken.error.message);
  return taken.message;
}

/** Is a Cancel already waiting in the stream (read-ahead, without waiting)? */
async function cancelIsWaiting(io: SessionIo): Promise<boolean> {
  const next = await Promise.race([
    io.inbox.peek(),
    new Promise<undefined>((r) => setImmediate(() => r(undefined))),
  ]);
  return next?.kind === "message" && kindOf(next.message) === "cancel";
}
