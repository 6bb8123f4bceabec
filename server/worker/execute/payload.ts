import type { Init } from "../../../gen/org/apache/spark/udf/worker/udf_message_pb.js";
import { crc32 } from "./crc32.js";
import { kindOf, type Next } from "./inbox.js";
import { PayloadTooLarge, ProtocolViolation } from "./session-errors.js";

/**
 * The UDF payload: Init's inline bytes, then PayloadChunks in order up to the
 * one with last=true, checked against the worker's size limit while reading
 * (never buffered past it), then against `payload_size` and `payload_crc32`.
 * Throws ProtocolViolation or PayloadTooLarge.
 */
export async function assemblePayload(
  init: Init,
  take: () => Promise<Next>,
  maxPayloadBytes: number,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  const add = (bytes: Uint8Array) => {
    size += bytes.length;
    if (size > maxPayloadBytes) {
      throw new PayloadTooLarge(
        `UDF payload is larger than this worker's limit of ${maxPayloadBytes} bytes`,
      );
    }
    parts.push(bytes);
  };
  add(init.udf?.payload ?? new Uint8Array());
  if (init.isChunkingPayload) {
    for (;;) {
      const next = await take();
      if (next.kind !== "message")
        throw new ProtocolViolation("the stream ended before the payload chunk with last=true");
      const m = next.message.request;
      if (m.case !== "control" || m.value.control.case !== "payload") {
        throw new ProtocolViolation(
          `expected PayloadChunk while the payload is chunked, got ${kindOf(next.message)}`,
        );
      }
      add(m.value.control.value.data);
      if (m.value.control.value.last) break;
    }
  }
  const payload = concat(parts, size);
  const udf = init.udf;
  if (udf?.payloadSize !== undefined && BigInt(payload.length) !== udf.payloadSize) {
    throw new ProtocolViolation(
      `payload_size says ${udf.payloadSize} bytes, the assembled payload has ${payload.length}`,
    );
  }
  if (udf?.payloadCrc32 !== undefined) {
    const actual = crc32(payload);
    if (actual !== udf.payloadCrc32) {
      throw new ProtocolViolation(
        `payload_crc32 mismatch: expected ${hex32(udf.payloadCrc32)}, the assembled payload has ${hex32(actual)}`,
      );
    }
  }
  return payload;
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1 && parts[0]) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
