// HTTP/2 written byte by byte, for peers that must send what a real library
// never would (tests) or cost next to nothing (the bench Manage farm).

/** One frame: the 9-byte header (RFC 9113 §4.1), then `payload`. */
export function h2Frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array,
): Buffer {
  const out = Buffer.alloc(9 + payload.length);
  out.writeUIntBE(payload.length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(streamId, 5);
  out.set(payload, 9);
  return out;
}

/**
 * One header as an HPACK literal without indexing, with a new name
 * (RFC 7541 §6.2.2), Huffman off: names and values must be under 127 bytes.
 */
export function hpackLiteral(name: string, value: string): Buffer {
  return Buffer.concat([
    Buffer.from([0, name.length]),
    Buffer.from(name),
    Buffer.from([value.length]),
    Buffer.from(value),
  ]);
}

/** `body` as one uncompressed gRPC length-prefixed message. */
export function grpcMessage(body: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(body.length, 1);
  out.set(body, 5);
  return out;
}
