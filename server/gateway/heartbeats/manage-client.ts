import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  HeartbeatSchema,
  WorkerRequestSchema,
  WorkerResponseSchema,
  type ShutdownRequest,
  type WorkerResponse,
} from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { formatHostPort, type HostPort } from "../../shared/net/host-port.js";
import { H2Connection } from "./h2/h2-connection.js";
import { UnaryCall, type CallResult } from "./unary-call.js";

export type { CallFailureKind, CallResult } from "./unary-call.js";

const MANAGE_PATH = "/org.apache.spark.udf.worker.UdfWorker/Manage";

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

/** HPACK literal without indexing: the server's table is left alone, so blocks can be reused. */
function literal(nameIndex: number, name: string, value: string): Buffer {
  const string = (s: string) => {
    if (s.length > 126) throw new Error("header value too long for a one-byte length");
    return Buffer.concat([Buffer.from([s.length]), Buffer.from(s, "latin1")]);
  };
  if (nameIndex === 0) return Buffer.concat([Buffer.from([0]), string(name), string(value)]);
  const index = nameIndex < 15 ? Buffer.from([nameIndex]) : Buffer.from([0x0f, nameIndex - 15]);
  return Buffer.concat([index, string(value)]);
}

/** The request's header block, pre-encoded per (authority, deadline). */
function requestHeaders(authority: string, deadlineMs: number): Buffer {
  return Buffer.concat([
    Buffer.from([0x83, 0x86]), // :method POST, :scheme http (static table)
    literal(4, ":path", MANAGE_PATH),
    literal(1, ":authority", authority),
    literal(31, "content-type", "application/grpc+proto"),
    literal(0, "te", "trailers"),
    literal(0, "grpc-timeout", `${Math.max(1, Math.floor(deadlineMs))}m`),
    literal(0, "grpc-accept-encoding", "identity,gzip,deflate"),
    literal(58, "user-agent", "stallwatch-manage/1"),
  ]);
}

/**
 * A minimal unary gRPC client for `UdfWorker.Manage`: one HTTP/2 connection
 * per worker (H2Connection, raw frames on a TCP socket), reconnecting lazily
 * after a failure.
 *
 * Why not connect-node or node:http2: heartbeats are the gateway's hot path
 * (thousands of workers at 1 Hz). A call here is one pre-encoded write and an
 * answer parsed in place (bench/probe-cpu.bench.ts); everything off the hot
 * path uses Connect.
 *
 * Every call has a deadline, sent as `grpc-timeout` and enforced locally:
 * by its own timer, or (the prober's hot path) by the caller's batched tick
 * through `UnaryCall.expire()`. A blackholed peer that accepts TCP and never
 * answers is caught, and its connection dropped.
 */
export class ManageClient {
  private connection: H2Connection | undefined;
  private headerCache: { deadlineMs: number; block: Buffer } | undefined;
  readonly authority: string;

  constructor(readonly target: HostPort) {
    this.authority = formatHostPort(target);
  }

  heartbeat(deadlineMs: number): Promise<CallResult<Record<string, string>>> {
    return new Promise((resolve) => {
      this.heartbeatRaw(deadlineMs, true, (result) => resolve(decodeHeartbeat(result)));
    });
  }

  /**
   * The hot path: a heartbeat whose answer is the raw WorkerResponse bytes
   * (decode with `decodeHeartbeat`, or skip it when unchanged). Without
   * `ownTimer` the caller must call `expire()` on the returned call at its
   * deadline.
   */
  heartbeatRaw(
    deadlineMs: number,
    ownTimer: boolean,
    done: (result: CallResult<Uint8Array>) => void,
  ): UnaryCall {
    return this.call(HEARTBEAT_FRAME, deadlineMs, ownTimer, done);
  }

  shutdown(request: ShutdownRequest, deadlineMs: number): Promise<CallResult<boolean>> {
    const body = frame(
      toBinary(
        WorkerRequestSchema,
        create(WorkerRequestSchema, { manage: { case: "shutdown", value: request } }),
      ),
    );
    return new Promise((resolve) => {
      this.call(body, deadlineMs, true, (result) => {
        const decoded = decodeResponse(result);
        if (!decoded.ok) {
          resolve(decoded);
          return;
        }
        if (decoded.value.manage.case !== "shutdown") {
          resolve({
            ok: false,
            kind: "protocol",
            reason: "answer is not a ShutdownResponse",
            rttMs: decoded.rttMs,
          });
          return;
        }
        resolve({ ...decoded, value: decoded.value.manage.value.sessionsSettled });
      });
    });
  }

  /** Closes the connection; later calls reconnect. */
  close(): void {
    this.connection?.destroy("connection", "connection closed by the gateway");
    this.connection = undefined;
  }

  private call(
    body: Buffer,
    deadlineMs: number,
    ownTimer: boolean,
    done: (result: CallResult<Uint8Array>) => void,
  ): UnaryCall {
    if (this.headerCache?.deadlineMs !== deadlineMs)
      this.headerCache = { deadlineMs, block: requestHeaders(this.authority, deadlineMs) };
    let connection = this.connection;
    if (!connection?.usable) {
      connection?.destroy("connection", "connection replaced");
      connection = new H2Connection(this.target.host, this.target.port, (closed) => {
        if (this.connection === closed) this.connection = undefined;
      });
      this.connection = connection;
    }
    const call = new UnaryCall(connection, deadlineMs, done, () => {
      // A peer that never completed the HTTP/2 handshake (blackholed, or
      // frozen before it answered) gets a fresh connection next time.
      if (this.connection === connection && !connection.established) this.close();
    });
    call.send(this.headerCache.block, body, ownTimer);
    return call;
  }
}

/** A WorkerResponse from raw bytes, as a heartbeat. */
export function decodeHeartbeat(
  result: CallResult<Uint8Array>,
): CallResult<Record<string, string>> {
  const decoded = decodeResponse(result);
  if (!decoded.ok) return decoded;
  if (decoded.value.manage.case !== "heartbeat") {
    return {
      ok: false,
      kind: "protocol",
      reason: "answer is not a HeartbeatResponse",
      rttMs: decoded.rttMs,
    };
  }
  return { ...decoded, value: decoded.value.manage.value.metrics };
}

function decodeResponse(result: CallResult<Uint8Array>): CallResult<WorkerResponse> {
  if (!result.ok) return result;
  try {
    return { ...result, value: fromBinary(WorkerResponseSchema, result.value) };
  } catch (err) {
    return {
      ok: false,
      kind: "protocol",
      reason: `undecodable WorkerResponse: ${(err as Error).message}`,
      rttMs: result.rttMs,
    };
  }
}
