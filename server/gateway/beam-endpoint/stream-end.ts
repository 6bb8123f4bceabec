import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { WorkerStatusResponse } from "../../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";
import { sleep, type Clock } from "../../shared/clock/clock.js";
import { http2StreamKey, streamBroken } from "./stream-context.js";

/** How a harness's status stream ended, as liveness tells it. */
export interface StreamEnd {
  /** `exited`: a clean half-close; `gone`: reset or broken; `malformed`: bytes we cannot decode. */
  how: "exited" | "gone" | "malformed";
  reason: string;
}

/** Codes a request-stream error carries when the harness sent bytes we cannot decode. */
const MALFORMED = new Set([
  Code.InvalidArgument,
  Code.Internal,
  Code.ResourceExhausted,
  Code.Unimplemented,
]);

/**
 * Reads a harness's responses until its stream ends, handing each to
 * `onResponse`, and says how it ended. connect ends the request iterable on a
 * reset as on a half-close; the HTTP/2 stream tells them apart.
 */
export async function readUntilEnd(
  responses: AsyncIterable<WorkerStatusResponse>,
  context: HandlerContext,
  clock: Clock,
  onResponse: (response: WorkerStatusResponse) => void,
): Promise<StreamEnd> {
  try {
    for await (const response of responses) onResponse(response);
    const h2 = context.values.get(http2StreamKey);
    // A reset's flags land with the stream's close: give it a moment (a half-close stays open).
    if (h2 && !h2.closed) {
      const closed = new AbortController();
      const onClose = () => closed.abort();
      h2.once("close", onClose);
      await sleep(clock, 200, closed.signal);
      h2.off("close", onClose);
    }
    return streamBroken(h2)
      ? {
          how: "gone",
          reason: `status stream reset by the harness (code ${h2?.rstCode ?? "none"})`,
        }
      : { how: "exited", reason: "the harness closed its status stream" };
  } catch (err) {
    const e = ConnectError.from(err);
    return !context.signal.aborted && MALFORMED.has(e.code)
      ? { how: "malformed", reason: `malformed WorkerStatusResponse: ${e.rawMessage}` }
      : { how: "gone", reason: `status stream broke: ${e.rawMessage}` };
  }
}
