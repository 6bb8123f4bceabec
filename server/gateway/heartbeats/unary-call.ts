import type { H2Connection, StreamHandler } from "./h2/h2-connection.js";
import type { HeaderMap } from "./h2/hpack-decoder.js";
import { gunzipSync, inflateSync } from "node:zlib";

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
      /** From the request (or, for a call queued before connect, the connection) to the answer. */
      rttMs: number;
      /** The first call on a new connection: its RTT excludes connection set-up. */
      firstOnConnection: boolean;
    }
  | { ok: false; kind: CallFailureKind; reason: string; rttMs: number };

/** A WorkerResponse is a small map; anything this big is not a heartbeat. */
export const MAX_RESPONSE_BYTES = 1 << 20;

/**
 * One unary gRPC call on an H2Connection: collects the answer, applies the
 * deadline and classifies the outcome exactly once.
 */
export class UnaryCall implements StreamHandler {
  private streamId = 0;
  private startedAt = 0;
  private settled = false;
  private timer: NodeJS.Timeout | undefined;
  private headers: HeaderMap | undefined;
  private chunks: Uint8Array[] = [];
  private received = 0;
  /** `performance.now()` at which the deadline passes. */
  deadlineAt = 0;

  constructor(
    private readonly connection: H2Connection,
    private readonly deadlineMs: number,
    private readonly done: (result: CallResult<Uint8Array>) => void,
    private readonly onTimeout: () => void,
  ) {}

  get isSettled(): boolean {
    return this.settled;
  }

  send(headerBlock: Buffer, body: Buffer, ownTimer: boolean): void {
    this.startedAt = performance.now();
    this.deadlineAt = this.startedAt + this.deadlineMs;
    if (ownTimer) this.timer = setTimeout(() => this.expire(), this.deadlineMs);
    this.streamId = this.connection.request(headerBlock, body, this);
  }

  /** The deadline passed: a missed beat, unless the answer already came. */
  expire(): void {
    if (this.settled) return;
    this.connection.cancel(this.streamId);
    this.fail("timeout", `no answer within ${this.deadlineMs} ms`);
    this.onTimeout();
  }

  onHeaders(headers: HeaderMap, endStream: boolean): void {
    if (this.settled) return;
    if (!this.headers) {
      this.headers = headers;
      const status = headers.get(":status");
      const contentType = headers.get("content-type") ?? "";
      if (status !== "200" || !contentType.startsWith("application/grpc")) {
        this.connection.cancel(this.streamId);
        this.fail(
          "protocol",
          `not a gRPC server (HTTP ${status ?? "?"}, content-type "${contentType}")`,
        );
        return;
      }
    } else {
      for (const [name, value] of headers) this.headers.set(name, value);
    }
    if (endStream) this.complete();
  }

  onData(chunk: Uint8Array, endStream: boolean): void {
    if (this.settled) return;
    this.received += chunk.length;
    if (this.received > MAX_RESPONSE_BYTES + 5) {
      this.connection.cancel(this.streamId);
      this.fail("protocol", `answer larger than ${MAX_RESPONSE_BYTES} bytes`);
      return;
    }
    if (chunk.length > 0) this.chunks.push(chunk);
    if (endStream) this.complete();
  }

  onFail(kind: "connection" | "protocol", reason: string): void {
    this.fail(kind, reason);
  }

  private complete(): void {
    const headers = this.headers;
    if (!headers) {
      this.fail("protocol", "answer without headers");
      return;
    }
    const grpcStatus = headers.get("grpc-status") ?? "";
    if (grpcStatus === "") {
      this.fail("protocol", "answer has no grpc-status");
      return;
    }
    if (grpcStatus !== "0") {
      const message = decodeGrpcMessage(headers.get("grpc-message"));
      const detail = `gRPC status ${grpcStatus}${message ? `: ${message}` : ""}`;
      // UNIMPLEMENTED: a gRPC server, but not a UdfWorker.
      if (grpcStatus === "12") {
        this.fail("protocol", `not a UdfWorker (${detail})`);
        return;
      }
      this.fail("status", detail);
      return;
    }
    const data =
      this.chunks.length === 1 ? (this.chunks[0] ?? new Uint8Array(0)) : Buffer.concat(this.chunks);
    const length =
      data.length >= 5 ? Buffer.from(data.buffer, data.byteOffset, 5).readUInt32BE(1) : -1;
    const flag = data[0];
    if (length !== data.length - 5 || (flag !== 0 && flag !== 1)) {
      this.fail("protocol", "malformed gRPC message frame");
      return;
    }
    let message = data.subarray(5);
    if (flag === 1) {
      try {
        message = decompress(headers.get("grpc-encoding") ?? "", message, MAX_RESPONSE_BYTES);
      } catch (err) {
        this.fail("protocol", `undecodable compressed answer: ${(err as Error).message}`);
        return;
      }
    }
    this.finish({
      ok: true,
      value: message,
      rttMs: this.rtt(),
      firstOnConnection: this.streamId === 1,
    });
  }

  private rtt(): number {
    // A call sent before the connection was up waited for TCP set-up too: leave that out.
    const from = Math.max(this.startedAt, this.connection.connectedAt);
    return performance.now() - from;
  }

  private fail(kind: CallFailureKind, reason: string): void {
    this.finish({ ok: false, kind, reason, rttMs: this.rtt() });
  }

  private finish(result: CallResult<Uint8Array>): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.chunks = [];
    this.done(result);
  }
}

function decodeGrpcMessage(value: string | undefined): string {
  if (!value) return "";
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Decompresses a message whose compressed flag was set; bounded by `maxBytes`. */
function decompress(encoding: string, data: Uint8Array, maxBytes: number): Uint8Array {
  if (encoding === "gzip") return gunzipSync(data, { maxOutputLength: maxBytes });
  if (encoding === "deflate") return inflateSync(data, { maxOutputLength: maxBytes });
  throw new Error(`compressed with "${encoding || "identity"}", which we did not offer`);
}
