// HTTP/2 frame constants and the few frames the Manage client writes (RFC 7540).

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
export const MAX_FRAME = 16_384; // our SETTINGS_MAX_FRAME_SIZE: the default
/** Stream window we grant: above any answer we accept, so no stream ever needs a WINDOW_UPDATE. */
export const STREAM_WINDOW = 4 << 20;
export const CONNECTION_WINDOW = 16 << 20;
export const MAX_HEADER_LIST = 64 << 10;
export const MAX_STREAM_ID = 0x7fffffff;
/**
 * Unsent bytes we queue for a peer that stopped reading (e.g. frozen with
 * SIGSTOP) before giving up on the connection: at one heartbeat a second that
 * is hours of requests, and a bound all the same.
 */
export const MAX_QUEUED_BYTES = 1 << 20;

export const DATA = 0;
export const HEADERS = 1;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PUSH_PROMISE = 5;
export const PING = 6;
export const GOAWAY = 7;
export const WINDOW_UPDATE = 8;
export const CONTINUATION = 9;
export const END_STREAM = 0x1;
export const ACK = 0x1;
export const END_HEADERS = 0x4;
export const PADDED = 0x8;
export const PRIORITY_FLAG = 0x20;

export function frameHeader(
  out: Buffer,
  at: number,
  length: number,
  type: number,
  flags: number,
  id: number,
) {
  out.writeUIntBE(length, at, 3);
  out[at + 3] = type;
  out[at + 4] = flags;
  out.writeUInt32BE(id, at + 5);
}

// Sent once per connection: preface, SETTINGS (no push, a large stream window,
// a header-list cap) and a connection WINDOW_UPDATE.
export const OPENING = (() => {
  const out = Buffer.alloc(PREFACE.length + 9 + 18 + 9 + 4);
  PREFACE.copy(out);
  let at = PREFACE.length;
  frameHeader(out, at, 18, SETTINGS, 0, 0);
  at += 9;
  for (const [id, value] of [
    [0x2, 0],
    [0x4, STREAM_WINDOW],
    [0x6, MAX_HEADER_LIST],
  ] as const) {
    out.writeUInt16BE(id, at);
    out.writeUInt32BE(value, at + 2);
    at += 6;
  }
  frameHeader(out, at, 4, WINDOW_UPDATE, 0, 0);
  out.writeUInt32BE(CONNECTION_WINDOW - 65_535, at + 9);
  return out;
})();

export function unpad(payload: Buffer, flags: number): Buffer {
  if (!(flags & PADDED)) return payload;
  const padding = payload[0] ?? 0;
  if (padding >= payload.length) throw new Error("padding longer than the frame");
  return payload.subarray(1, payload.length - padding);
}

/** A human reason for a socket failure, shown on the dashboard. */
export function describeSocketError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
    case "EPIPE":
      return "connection reset";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    default:
      return err.code ? `${err.code}: ${err.message}` : err.message;
  }
}
