import http2, { type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  HeartbeatSchema,
  WorkerRequestSchema,
  WorkerResponseSchema,
  type ShutdownRequest,
  type WorkerResponse,
} from "../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { formatHostPort, type HostPort } from "../net/host-port.js";

/** Why a call failed, as the liveness tracker needs to know it. */
export type CallFailureKind =
  /** No answer within the deadline: counts as a missed beat. */
  | "timeout"
  /** Refused, reset or closed: the worker is gone. */
  | "connection"
  /** The peer does not speak gRPC / UdfWorker. */
  | "protocol"
  /** A gRPC error status from the worker. */
  | "status";

export type CallResult<T> =
  | {
      ok: true;
      value: T;
      /** From the request to the answer, connection set-up left out. */
      rttMs: number;
      /**
       * The first call on a new connection: the peer's first request on it
       * (its handler warming up, the HTTP/2 SETTINGS exchange) is not the
       * steady-state round trip, so latency figures leave it out.
       */
      firstOnConnection?: boolean;
    }
  | { ok: false; kind: CallFailureKind; reason: string; rttMs: number };

const MANAGE_PATH = "/org.apache.spark.udf.worker.UdfWorker/Manage";
/** A WorkerResponse is a small map; anything this big is not a heartbeat. */
const MAX_RESPONSE_BYTES = 1 << 20;

/** gRPC length-prefixed frame around an encoded message. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

// The heartbeat request never changes: encode it once for every call.
const HEARTBEAT_FRAME = frame(
  toBinary(
    WorkerRequestSchema,
    create(WorkerRequestSchema, { manage: { case: "heartbeat", value: create(HeartbeatSchema) } }),
  ),
);

/**
 * A minimal unary gRPC client for `UdfWorker.Manage` on `node:http2`, one
 * HTTP/2 connection per worker, reconnecting lazily after a failure.
 *
 * Why not connect-node's client: heartbeats are the gateway's hot path
 * (thousands of workers at 1 Hz) and a stock client's per-call pipeline costs
 * 3-4x the CPU of this one (see bench/heartbeat-client.bench.ts). Everything
 * off the hot path uses Connect.
 *
 * Every call has a deadline (sent as `grpc-timeout` and enforced locally), so
 * a blackholed peer that accepts TCP and never answers is caught.
 */
export class ManageClient {
  private session: ClientHttp2Session | undefined;
  private sessionConnected = false;
  /** When the current connection was established (performance.now()). */
  private connectedAt = 0;
  private lastSessionError: string | undefined;
  readonly authority: string;

  constructor(readonly target: HostPort) {
    this.authority = `http://${formatHostPort(target)}`;
  }

  heartbeat(deadlineMs: number): Promise<CallResult<Record<string, string>>> {
    return this.call(HEARTBEAT_FRAME, deadlineMs).then((result) => {
      if (!result.ok) return result;
      if (result.value.manage.case !== "heartbeat") {
        return {
          ok: false,
          kind: "protocol",
          reason: "answer is not a HeartbeatResponse",
          rttMs: result.rttMs,
        };
      }
      return {
        ok: true,
        value: result.value.manage.value.metrics,
        rttMs: result.rttMs,
        ...(result.firstOnConnection ? { firstOnConnection: true } : {}),
      };
    });
  }

  shutdown(request: ShutdownRequest, deadlineMs: number): Promise<CallResult<boolean>> {
    const body = frame(
      toBinary(
        WorkerRequestSchema,
        create(WorkerRequestSchema, { manage: { case: "shutdown", value: request } }),
      ),
    );
    return this.call(body, deadlineMs).then((result) => {
      if (!result.ok) return result;
      if (result.value.manage.case !== "shutdown") {
        return {
          ok: false,
          kind: "protocol",
          reason: "answer is not a ShutdownResponse",
          rttMs: result.rttMs,
        };
      }
      return { ok: true, value: result.value.manage.value.sessionsSettled, rttMs: result.rttMs };
    });
  }

  /** Closes the connection; later calls reconnect. */
  close(): void {
    this.session?.destroy();
    this.session = undefined;
  }

  private connect(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    this.sessionConnected = false;
    this.lastSessionError = undefined;
    const session = http2.connect(this.authority);
    session.on("connect", () => {
      this.sessionConnected = true;
      this.connectedAt = performance.now();
    });
    session.on("error", (err: NodeJS.ErrnoException) => {
      this.lastSessionError = describeSessionError(err);
    });
    session.on("close", () => {
      if (this.session === session) this.session = undefined;
    });
    session.on("goaway", () => {
      if (this.session === session) this.session = undefined;
    });
    // The prober's timers keep the process alive, not idle connections.
    session.unref();
    this.session = session;
    return session;
  }

  private call(body: Buffer, deadlineMs: number): Promise<CallResult<WorkerResponse>> {
    const started = performance.now();
    // A call that had to open the connection counts from when it was open.
    const firstOnConnection = !this.session || this.session.closed || this.session.destroyed;
    const roundTripFrom = () =>
      firstOnConnection && this.sessionConnected ? Math.max(started, this.connectedAt) : started;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: CallResult<WorkerResponse>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const fail = (kind: CallFailureKind, reason: string) =>
        finish({ ok: false, kind, reason, rttMs: performance.now() - started });

      let session: ClientHttp2Session;
      try {
        session = this.connect();
      } catch (err) {
        fail("connection", describeSessionError(err as NodeJS.ErrnoException));
        return;
      }
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        // A peer that never completed the HTTP/2 handshake (blackholed, or
        // frozen before it answered) gets a fresh connection next time.
        if (!this.sessionConnected) this.close();
        fail("timeout", `no answer within ${deadlineMs} ms`);
      }, deadlineMs);

      const stream = session.request(
        {
          ":method": "POST",
          ":path": MANAGE_PATH,
          "content-type": "application/grpc+proto",
          te: "trailers",
          "grpc-timeout": `${Math.max(1, Math.floor(deadlineMs))}m`,
        },
        { endStream: false },
      );
      const chunks: Buffer[] = [];
      let received = 0;
      let headers: IncomingHttpHeaders | undefined;

      stream.on("response", (h) => {
        headers = h;
        const status = h[":status"];
        const contentType = h["content-type"] ?? "";
        if (status !== 200 || !contentType.startsWith("application/grpc")) {
          stream.close(http2.constants.NGHTTP2_CANCEL);
          fail(
            "protocol",
            `not a gRPC server (HTTP ${status ?? "?"}, content-type "${contentType}")`,
          );
        }
      });
      stream.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) {
          stream.close(http2.constants.NGHTTP2_CANCEL);
          fail("protocol", `answer larger than ${MAX_RESPONSE_BYTES} bytes`);
          return;
        }
        chunks.push(chunk);
      });
      stream.on("trailers", (trailers: IncomingHttpHeaders) => {
        headers = { ...headers, ...trailers };
      });
      stream.on("error", (err: NodeJS.ErrnoException) => {
        const sessionReason = this.lastSessionError;
        if (sessionReason) fail(classifySessionError(sessionReason), sessionReason);
        else fail("connection", describeSessionError(err));
      });
      stream.on("close", () => {
        if (settled) return;
        if (!headers) {
          const reason = this.lastSessionError ?? "connection closed before an answer";
          fail(classifySessionError(reason), reason);
          return;
        }
        const grpcStatus = String(headers["grpc-status"] ?? "");
        if (grpcStatus === "") {
          fail("protocol", "answer has no grpc-status");
          return;
        }
        if (grpcStatus !== "0") {
          const message = decodeGrpcMessage(headers["grpc-message"]);
          const detail = `gRPC status ${grpcStatus}${message ? `: ${message}` : ""}`;
          // UNIMPLEMENTED: a gRPC server, but not a UdfWorker.
          if (grpcStatus === "12") fail("protocol", `not a UdfWorker (${detail})`);
          else fail("status", detail);
          return;
        }
        const data = Buffer.concat(chunks);
        if (data.length < 5 || data[0] !== 0 || data.readUInt32BE(1) !== data.length - 5) {
          fail("protocol", "malformed gRPC message frame");
          return;
        }
        try {
          const value = fromBinary(WorkerResponseSchema, data.subarray(5));
          finish({
            ok: true,
            value,
            rttMs: performance.now() - roundTripFrom(),
            firstOnConnection,
          });
        } catch (err) {
          fail("protocol", `undecodable WorkerResponse: ${(err as Error).message}`);
        }
      });
      stream.end(body);
    });
  }
}

function decodeGrpcMessage(value: string | string[] | undefined): string {
  if (typeof value !== "string") return "";
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A human reason for a connection-level failure, shown on the dashboard. */
export function describeSessionError(err: NodeJS.ErrnoException): string {
  // Streams on a failed connection report "stream cancelled", caused by the real error.
  const cause = err.cause as NodeJS.ErrnoException | undefined;
  if (cause && typeof cause === "object" && cause.code) return describeSessionError(cause);
  switch (err.code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
      return "connection reset";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ERR_HTTP2_ERROR":
    case "ERR_HTTP2_SESSION_ERROR":
    case "ERR_HTTP2_STREAM_ERROR":
    case "ERR_HTTP2_INVALID_SESSION":
      return `protocol error: ${err.message}`;
    default:
      return err.code ? `${err.code}: ${err.message}` : err.message;
  }
}

function classifySessionError(reason: string): CallFailureKind {
  return reason.startsWith("protocol error") ? "protocol" : "connection";
}
