import { huffmanDecode } from "./hpack-huffman.js";

/** RFC 7541, Appendix A: index 1..61. */
const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

/** Our SETTINGS_HEADER_TABLE_SIZE: the default, so no setting is needed. */
export const HEADER_TABLE_SIZE = 4096;

/** A decoded header block: names are lower-case, later duplicates win. */
export type HeaderMap = Map<string, string>;

/**
 * An HPACK decoder for one connection (RFC 7541). The dynamic table is kept
 * as decoded strings, so a header the server indexed once (content-type,
 * grpc-status: 0, ...) costs an array lookup on every later response.
 *
 * Every block must be decoded, even for streams we no longer care about:
 * the dynamic table is shared by the whole connection.
 */
export class HpackDecoder {
  /** Newest first. */
  private readonly dynamic: Array<readonly [string, string]> = [];
  private size = 0;
  private maxSize = HEADER_TABLE_SIZE;

  /**
   * Decodes one complete header block. Throws (a connection error: COMPRESSION_ERROR)
   * on anything malformed, or when the decoded list exceeds `maxListSize`
   * octets as RFC 7540 counts them.
   */
  decode(block: Uint8Array, maxListSize: number): HeaderMap {
    const headers: HeaderMap = new Map();
    let listSize = 0;
    let pos = 0;
    const end = block.length;
    const readInt = (prefixBits: number): number => {
      const mask = (1 << prefixBits) - 1;
      let value = (block[pos++] ?? 0) & mask;
      if (value < mask) return value;
      let shift = 0;
      for (;;) {
        if (pos >= end) throw new Error("HPACK: truncated integer");
        const byte = block[pos++] ?? 0;
        value += (byte & 0x7f) * 2 ** shift;
        shift += 7;
        if (value > 0xffffff) throw new Error("HPACK: integer too large");
        if ((byte & 0x80) === 0) return value;
      }
    };
    const readString = (): string => {
      if (pos >= end) throw new Error("HPACK: truncated string");
      const huffman = ((block[pos] ?? 0) & 0x80) !== 0;
      const length = readInt(7);
      if (pos + length > end) throw new Error("HPACK: truncated string");
      const start = pos;
      pos += length;
      return huffman
        ? huffmanDecode(block, start, pos)
        : Buffer.from(block.buffer, block.byteOffset + start, length).toString("latin1");
    };
    const emit = (name: string, value: string) => {
      listSize += name.length + value.length + 32;
      if (listSize > maxListSize) throw new Error("HPACK: header list too large");
      headers.set(name, value);
    };
    let sawField = false;
    while (pos < end) {
      const byte = block[pos] ?? 0;
      if (byte & 0x80) {
        const [name, value] = this.entry(readInt(7));
        emit(name, value);
        sawField = true;
      } else if (byte & 0x40) {
        const index = readInt(6);
        const name = index === 0 ? readString() : this.entry(index)[0];
        const value = readString();
        this.insert(name, value);
        emit(name, value);
        sawField = true;
      } else if (byte & 0x20) {
        // A size update is only allowed at the start of a block.
        if (sawField) throw new Error("HPACK: table size update after a field");
        const size = readInt(5);
        if (size > HEADER_TABLE_SIZE) throw new Error("HPACK: table size above our setting");
        this.maxSize = size;
        this.evict();
      } else {
        const index = readInt(4);
        const name = index === 0 ? readString() : this.entry(index)[0];
        emit(name, readString());
        sawField = true;
      }
    }
    return headers;
  }

  private entry(index: number): readonly [string, string] {
    if (index === 0) throw new Error("HPACK: index 0");
    const found =
      index <= STATIC_TABLE.length
        ? STATIC_TABLE[index - 1]
        : this.dynamic[index - STATIC_TABLE.length - 1];
    if (!found) throw new Error(`HPACK: no entry at index ${index}`);
    return found;
  }

  private insert(name: string, value: string): void {
    const entrySize = name.length + value.length + 32;
    if (entrySize > this.maxSize) {
      // RFC 7541 section 4.4: an entry larger than the table empties it.
      this.dynamic.length = 0;
      this.size = 0;
      return;
    }
    this.dynamic.unshift([name, value]);
    this.size += entrySize;
    this.evict();
  }

  private evict(): void {
    while (this.size > this.maxSize) {
      const oldest = this.dynamic.pop();
      if (!oldest) break;
      this.size -= oldest[0].length + oldest[1].length + 32;
    }
  }
}
