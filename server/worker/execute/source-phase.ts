import type { UdfResponse } from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { SessionState } from "../../../gen/stallwatch/v1/agent_pb.js";
import type { UdfSpec } from "../udf/udf-spec.js";
import type { UdfThreadHandle } from "../udf/udf-thread-handle.js";
import { valueOrEnd } from "./session-endings.js";
import type { SessionIo } from "./session-io.js";

/**
 * For a UDF whose capabilities say it `emitsBeforeInput`: streams what it
 * emits as DataResponses right after InitResponse, before any DataRequest,
 * while watching for cancels like any call into user code. False when the
 * session ended on the way.
 */
export async function* emitBeforeInput(
  io: SessionIo,
  spec: UdfSpec,
  thread: UdfThreadHandle,
): AsyncGenerator<UdfResponse, boolean> {
  io.session.enter(SessionState.PROCESSING);
  const emitted: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  const done = thread.generate(spec.fn, (g) => {
    io.addOutput(g);
    emitted.push(g.data);
    wake?.();
  });
  const progress = { finished: false };
  const settled = done.then(
    (figures) => {
      io.addWork(figures);
      progress.finished = true;
      wake?.();
    },
    () => {
      progress.finished = true;
      wake?.();
    },
  );
  while (!progress.finished || emitted.length > 0) {
    const data = emitted.shift();
    if (data) {
      yield* io.sendData(data);
      continue;
    }
    await new Promise<void>((resolve) => (wake = resolve));
  }
  const result = await io.race(done);
  await settled;
  if ((yield* valueOrEnd(io, result)) === undefined) return false;
  io.session.enter(SessionState.WAITING_FOR_INPUT);
  return true;
}
