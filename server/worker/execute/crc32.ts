import { crc32 as zlibCrc32 } from "node:zlib";

/**
 * IEEE CRC-32 (the zlib / PNG polynomial), as `UdfPayload.payload_crc32` uses
 * it: Node's own `zlib.crc32` (since 20.15; package.json requires >= 20.19).
 * `previous` continues a checksum across chunks.
 */
export function crc32(data: Uint8Array, previous = 0): number {
  return zlibCrc32(data, previous);
}
