import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  BeamFnWorkerStatus,
  WorkerStatusResponseSchema,
  type WorkerStatusResponse,
} from "../../../../gen/org/apache/beam/model/fn_execution/v1/beam_fn_api_pb.js";

export interface TestHarness {
  requests: string[];
  /** Resolves when the stream ends: the status code name, or "ok". */
  ended: Promise<{ code: string; message: string }>;
  /** Half-closes our side cleanly (like a harness shutting down). */
  close(): void;
  /** Resets the stream (like a crash). */
  reset(): void;
}

/**
 * A harness as Beam SDKs behave: dials `BeamFnWorkerStatus/WorkerStatus` on
 * its own HTTP/2 connection, optionally names itself in `worker_id`, and
 * answers each request with the same id and `text()` (undefined: no answer).
 */
export function startTestHarness(
  grpcAddress: string,
  workerId: string | undefined,
  text: () => string | undefined,
  /** Share one HTTP/2 connection between harnesses (default: a new one). */
  transport: Transport = createGrpcTransport({ baseUrl: `http://${grpcAddress}` }),
): TestHarness {
  const client = createClient(BeamFnWorkerStatus, transport);
  const ac = new AbortController();
  const requests: string[] = [];
  const outbox: WorkerStatusResponse[] = [];
  let wake: (() => void) | undefined;
  let closing = false;
  async function* responses() {
    for (;;) {
      const next = outbox.shift();
      if (next) yield next;
      else if (closing) return;
      // A reset never half-closes first: it just stops.
      else if (ac.signal.aborted) await new Promise(() => undefined);
      else await new Promise<void>((r) => (wake = r));
    }
  }
  const ended = (async () => {
    try {
      for await (const req of client.workerStatus(responses(), {
        ...(workerId !== undefined ? { headers: { worker_id: workerId } } : {}),
        signal: ac.signal,
      })) {
        requests.push(req.id);
        const statusInfo = text();
        if (statusInfo === undefined) continue;
        outbox.push(create(WorkerStatusResponseSchema, { id: req.id, statusInfo }));
        wake?.();
      }
      return { code: "ok", message: "" };
    } catch (err) {
      const e = ConnectError.from(err);
      return { code: String(e.code), message: e.rawMessage };
    }
  })();
  return {
    requests,
    ended,
    close() {
      closing = true;
      wake?.();
    },
    reset() {
      ac.abort();
      wake?.();
    },
  };
}

/**
 * Opens the stream over raw HTTP/2 and sends one gRPC frame holding `payload`
 * as-is (e.g. bytes that are not a WorkerStatusResponse). Resolves with the
 * grpc-status and grpc-message the gateway ended the stream with.
 */
export function sendRawFrame(
  grpcAddress: string,
  workerId: string,
  payload: Uint8Array,
  timeoutMs = 10_000,
): Promise<{ status: string; message: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${grpcAddress}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no trailers within ${timeoutMs} ms`));
    }, timeoutMs);
    session.on("error", () => undefined);
    const stream = session.request({
      ":method": "POST",
      ":path": "/org.apache.beam.model.fn_execution.v1.BeamFnWorkerStatus/WorkerStatus",
      "content-type": "application/grpc+proto",
      te: "trailers",
      worker_id: workerId,
    });
    stream.on("error", () => undefined);
    let headers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => (headers = h));
    stream.on("trailers", (t: http2.IncomingHttpHeaders) => {
      clearTimeout(timer);
      session.close();
      resolve({
        status: String(t["grpc-status"] ?? ""),
        message: decodeURIComponent(String(t["grpc-message"] ?? "")),
      });
    });
    stream.on("data", () => undefined);
    stream.on("end", () => {
      // Trailers-only responses carry the status in the headers.
      if (headers["grpc-status"] !== undefined) {
        clearTimeout(timer);
        session.close();
        resolve({
          status: String(headers["grpc-status"]),
          message: decodeURIComponent(String(headers["grpc-message"] ?? "")),
        });
      }
    });
    // Wait for the first request so the stream is registered, then misbehave.
    stream.once("data", () => {
      const frame = Buffer.alloc(5 + payload.length);
      frame.writeUInt32BE(payload.length, 1);
      Buffer.from(payload).copy(frame, 5);
      stream.write(frame);
    });
  });
}

/** A well-formed response's bytes, for comparison. */
export function responseBytes(id: string, statusInfo: string): Uint8Array {
  return toBinary(
    WorkerStatusResponseSchema,
    create(WorkerStatusResponseSchema, { id, statusInfo }),
  );
}
