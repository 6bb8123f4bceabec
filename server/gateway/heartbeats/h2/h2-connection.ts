import net from "node:net";
import { HpackDecoder, type HeaderMap } from "./hpack-decoder.js";
import {
  MAX_FRAME,
  CONNECTION_WINDOW,
  MAX_HEADER_LIST,
  MAX_STREAM_ID,
  MAX_QUEUED_BYTES,
  DATA,
  HEADERS,
  RST_STREAM,
  SETTINGS,
  PUSH_PROMISE,
  PING,
  GOAWAY,
  WINDOW_UPDATE,
  CONTINUATION,
  END_STREAM,
  ACK,
  END_HEADERS,
  PRIORITY_FLAG,
  OPENING,
  frameHeader,
  unpad,
  describeSocketError,
} from "./h2-frames.js";

export { describeSocketError } from "./h2-frames.js";

/** What a stream on this connection hears; exactly one of onEnd / onFail ends it. */
export interface StreamHandler {
  onHeaders(headers: HeaderMap, endStream: boolean): void;
  onData(chunk: Uint8Array, endStream: boolean): void;
  /** The stream died without an answer: `protocol` when the peer broke HTTP/2. */
  onFail(kind: "connection" | "protocol", reason: string): void;
}

/**
 * One HTTP/2 connection (h2c, prior knowledge) spoken directly over a TCP
 * socket: the client half of RFC 7540 that unary gRPC needs, and no more.
 *
 * Why not `node:http2`: every call there builds a Duplex stream and crosses
 * from C++ to JS for headers, data, trailers and close; at thousands of
 * heartbeats a second that was ~0.35 ms of CPU per call. Here a call is one
 * socket write, and an answer is parsed from the socket chunk it arrived in
 * (bench/probe-cpu.bench.ts has the figures).
 *
 * Scope: no server push (disabled in our SETTINGS), no priorities, request
 * bodies small enough for the peer's initial window, one HPACK decoder per
 * connection. Anything malformed from the peer fails the whole connection as
 * a protocol error.
 */
export class H2Connection {
  private readonly socket: net.Socket;
  private readonly hpack = new HpackDecoder();
  private readonly streams = new Map<number, StreamHandler>();
  private nextStreamId = 1;
  private pending: Buffer | undefined;
  private sawSettings = false;
  private goingAway = false;
  private closed = false;
  private failure: { kind: "connection" | "protocol"; reason: string } | undefined;
  private unacked = 0;
  /** Header block being gathered across CONTINUATION frames. */
  private headerBlock: { id: number; flags: number; parts: Uint8Array[]; size: number } | undefined;
  /** `performance.now()` when TCP connected; 0 before. */
  connectedAt = 0;

  constructor(
    host: string,
    port: number,
    private readonly onClosed: (connection: H2Connection) => void,
  ) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.unref(); // the prober's timers keep the process alive, not idle connections
    this.socket.on("connect", () => {
      this.connectedAt = performance.now();
    });
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("error", (err: NodeJS.ErrnoException) => {
      this.failure ??= { kind: "connection", reason: describeSocketError(err) };
    });
    this.socket.on("close", () => this.shutdown());
    this.socket.write(OPENING);
  }

  /** The peer's SETTINGS arrived: it speaks HTTP/2. */
  get established(): boolean {
    return this.sawSettings;
  }

  /** New streams may be opened. */
  get usable(): boolean {
    return !this.closed && !this.goingAway && this.nextStreamId < MAX_STREAM_ID;
  }

  /**
   * Opens a stream and sends `headerBlock` (HPACK, no dynamic-table use) and
   * `body` with END_STREAM, in one write. Returns the stream id.
   */
  request(headerBlock: Buffer, body: Buffer, handler: StreamHandler): number {
    const id = this.nextStreamId;
    if (this.socket.writableLength > MAX_QUEUED_BYTES) {
      this.streams.set(id, handler);
      this.destroy("connection", "the worker stopped reading its connection");
      return id;
    }
    this.nextStreamId += 2;
    const out = Buffer.allocUnsafe(18 + headerBlock.length + body.length);
    frameHeader(out, 0, headerBlock.length, HEADERS, END_HEADERS, id);
    headerBlock.copy(out, 9);
    const at = 9 + headerBlock.length;
    frameHeader(out, at, body.length, DATA, END_STREAM, id);
    body.copy(out, at + 9);
    this.streams.set(id, handler);
    this.socket.write(out);
    return id;
  }

  /** Forgets a stream and tells the peer (RST_STREAM CANCEL). */
  cancel(id: number): void {
    if (!this.streams.delete(id) || this.closed) return;
    const out = Buffer.allocUnsafe(13);
    frameHeader(out, 0, 4, RST_STREAM, 0, id);
    out.writeUInt32BE(0x8, 9);
    this.socket.write(out);
  }

  /** Ends the connection: open streams fail with `reason`. */
  destroy(kind: "connection" | "protocol", reason: string): void {
    this.failure ??= { kind, reason };
    this.socket.destroy();
    this.shutdown();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    const { kind, reason } = this.failure ?? {
      kind: "connection",
      reason: "connection closed before an answer",
    };
    const open = [...this.streams.values()];
    this.streams.clear();
    for (const handler of open) handler.onFail(kind, reason);
    this.onClosed(this);
  }

  private onData(chunk: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let at = 0;
    try {
      while (!this.closed && buf.length - at >= 9) {
        const length = buf.readUIntBE(at, 3);
        const type = buf[at + 3] ?? 0;
        if (!this.sawSettings && type !== SETTINGS)
          throw new Error("the peer does not speak HTTP/2 (no SETTINGS first)");
        if (length > MAX_FRAME) throw new Error(`frame of ${length} bytes over our limit`);
        if (buf.length - at < 9 + length) break;
        const flags = buf[at + 4] ?? 0;
        const id = buf.readUInt32BE(at + 5) & MAX_STREAM_ID;
        this.onFrame(type, flags, id, buf.subarray(at + 9, at + 9 + length));
        at += 9 + length;
      }
    } catch (err) {
      this.destroy("protocol", `protocol error: ${(err as Error).message}`);
      return;
    }
    if (at < buf.length && !this.closed) this.pending = buf.subarray(at);
  }

  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.headerBlock && (type !== CONTINUATION || id !== this.headerBlock.id))
      throw new Error("expected CONTINUATION");
    switch (type) {
      case DATA: {
        this.unacked += payload.length;
        if (this.unacked >= CONNECTION_WINDOW / 2) this.windowUpdate();
        const handler = this.streams.get(id);
        if (!handler) return;
        const end = (flags & END_STREAM) !== 0;
        if (end) this.streams.delete(id);
        handler.onData(unpad(payload, flags), end);
        return;
      }
      case HEADERS: {
        let block = unpad(payload, flags);
        if (flags & PRIORITY_FLAG) block = block.subarray(5);
        this.headerBlock = { id, flags, parts: [block], size: block.length };
        if (flags & END_HEADERS) this.endHeaders();
        return;
      }
      case CONTINUATION: {
        const gathering = this.headerBlock;
        if (!gathering) throw new Error("CONTINUATION without HEADERS");
        gathering.size += payload.length;
        if (gathering.size > MAX_HEADER_LIST) throw new Error("header block too large");
        gathering.parts.push(payload);
        if (flags & END_HEADERS) this.endHeaders();
        return;
      }
      case RST_STREAM: {
        const handler = this.streams.get(id);
        this.streams.delete(id);
        const code = payload.length >= 4 ? payload.readUInt32BE(0) : -1;
        handler?.onFail("connection", `stream reset by the peer (HTTP/2 error ${code})`);
        return;
      }
      case SETTINGS:
        if (flags & ACK) return;
        if (payload.length % 6 !== 0) throw new Error("malformed SETTINGS");
        this.sawSettings = true;
        this.socket.write(Buffer.from([0, 0, 0, SETTINGS, ACK, 0, 0, 0, 0]));
        return;
      case PING:
        if (flags & ACK || payload.length !== 8) return;
        {
          const out = Buffer.allocUnsafe(17);
          frameHeader(out, 0, 8, PING, ACK, 0);
          payload.copy(out, 9);
          this.socket.write(out);
        }
        return;
      case GOAWAY: {
        this.goingAway = true;
        const last = payload.length >= 4 ? payload.readUInt32BE(0) & MAX_STREAM_ID : 0;
        for (const [streamId, handler] of this.streams) {
          if (streamId <= last) continue;
          this.streams.delete(streamId);
          handler.onFail("connection", "connection closed by the worker (GOAWAY)");
        }
        return;
      }
      case PUSH_PROMISE:
        throw new Error("PUSH_PROMISE although push is disabled");
      default:
        return; // PRIORITY, WINDOW_UPDATE and unknown types need nothing from us
    }
  }

  private endHeaders(): void {
    const gathering = this.headerBlock;
    if (!gathering) return;
    this.headerBlock = undefined;
    const block =
      gathering.parts.length === 1 ? gathering.parts[0] : Buffer.concat(gathering.parts);
    const headers = this.hpack.decode(block ?? new Uint8Array(0), MAX_HEADER_LIST);
    const handler = this.streams.get(gathering.id);
    if (!handler) return;
    const end = (gathering.flags & END_STREAM) !== 0;
    if (end) this.streams.delete(gathering.id);
    handler.onHeaders(headers, end);
  }

  private windowUpdate(): void {
    const out = Buffer.allocUnsafe(13);
    frameHeader(out, 0, 4, WINDOW_UPDATE, 0, 0);
    out.writeUInt32BE(this.unacked, 9);
    this.unacked = 0;
    this.socket.write(out);
  }
}
