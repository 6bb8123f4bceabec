"""HPACK (RFC 7541): a decoder with the dynamic table, and a literal-only encoder.

Every peer may be hostile: integers, string lengths, table sizes and the decoded header
list are capped, and each malformed input raises HpackError with a precise message.
"""

from collections import deque
from typing import Deque, List, Sequence, Tuple

from . import huffman

Header = Tuple[str, str]

STATIC_TABLE: Tuple[Tuple[str, str], ...] = (
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
)

#: Integers past this are refused: nothing legitimate in HPACK (indexes, lengths, sizes) is
#: larger, and it bounds the bytes an integer may take (RFC 7541 section 5.1 advises a limit).
MAX_INTEGER = (1 << 31) - 1
_MAX_INTEGER_BYTES = 5  # 1 prefix + 5 continuation bytes hold 7 * 5 = 35 bits, enough for 2^31


class HpackError(ValueError):
    """A header block that cannot be decoded (HTTP/2 COMPRESSION_ERROR)."""


class HeaderListTooLarge(HpackError):
    """The decoded header list is over the decoder's cap (SETTINGS_MAX_HEADER_LIST_SIZE)."""


def _entry_size(name: bytes, value: bytes) -> int:
    return 32 + len(name) + len(value)  # RFC 7541 section 4.1


def decode_integer(data: bytes, pos: int, prefix_bits: int) -> Tuple[int, int]:
    """An integer with an N-bit prefix at data[pos] (RFC 7541 section 5.1): (value, next pos)."""
    if pos >= len(data):
        raise HpackError("header block ends inside an integer")
    mask = (1 << prefix_bits) - 1
    value = data[pos] & mask
    pos += 1
    if value < mask:
        return value, pos
    shift = 0
    for _ in range(_MAX_INTEGER_BYTES):
        if pos >= len(data):
            raise HpackError("header block ends inside an integer")
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        shift += 7
        if value > MAX_INTEGER:
            raise HpackError(f"HPACK integer over {MAX_INTEGER}")
        if not byte & 0x80:
            return value, pos
    raise HpackError(f"HPACK integer longer than {_MAX_INTEGER_BYTES + 1} bytes")


def encode_integer(value: int, prefix_bits: int, first_byte_flags: int = 0) -> bytes:
    mask = (1 << prefix_bits) - 1
    if value < mask:
        return bytes([first_byte_flags | value])
    out = bytearray([first_byte_flags | mask])
    value -= mask
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class Decoder:
    """Decodes header blocks of one connection, keeping its dynamic table (RFC 7541 section 2.3)."""

    def __init__(self, max_table_size: int = 4096, max_header_list_size: int = 16384) -> None:
        #: What we told the peer (SETTINGS_HEADER_TABLE_SIZE): the ceiling of size updates.
        self.settings_table_size = max_table_size
        self.max_header_list_size = max_header_list_size
        self._max_size = max_table_size  # the current limit, as set by the peer's size updates
        self._size = 0
        self._table: Deque[Tuple[bytes, bytes]] = deque()  # newest first

    @property
    def table_size(self) -> int:
        return self._size

    @property
    def table(self) -> List[Tuple[bytes, bytes]]:
        return list(self._table)

    def _evict(self, limit: int) -> None:
        while self._size > limit:
            name, value = self._table.pop()
            self._size -= _entry_size(name, value)

    def _add(self, name: bytes, value: bytes) -> None:
        size = _entry_size(name, value)
        # An entry larger than the table empties it and is not added (RFC 7541 section 4.4).
        self._evict(max(self._max_size - size, 0))
        if size <= self._max_size:
            self._table.appendleft((name, value))
            self._size += size

    def _lookup(self, index: int) -> Tuple[bytes, bytes]:
        if index == 0:
            raise HpackError("HPACK index 0")
        if index <= len(STATIC_TABLE):
            name, value = STATIC_TABLE[index - 1]
            return name.encode(), value.encode()
        dynamic = index - len(STATIC_TABLE) - 1
        if dynamic >= len(self._table):
            raise HpackError(
                f"HPACK index {index} out of range (static 61 + dynamic {len(self._table)})"
            )
        return self._table[dynamic]

    def _string(self, data: bytes, pos: int) -> Tuple[bytes, int]:
        if pos >= len(data):
            raise HpackError("header block ends before a string")
        is_huffman = data[pos] & 0x80
        length, pos = decode_integer(data, pos, 7)
        if length > len(data) - pos:
            raise HpackError(f"HPACK string length {length} runs past the header block")
        raw = data[pos : pos + length]
        if is_huffman:
            try:
                raw = huffman.decode(raw)
            except huffman.HuffmanError as e:
                raise HpackError(str(e)) from None
        return raw, pos + length

    def decode(self, data: bytes) -> List[Header]:
        """Decode one complete header block into (name, value) pairs (latin-1 decoded)."""
        headers: List[Header] = []
        list_size = 0
        pos = 0
        seen_field = False
        while pos < len(data):
            byte = data[pos]
            if byte & 0x80:  # indexed header field
                index, pos = decode_integer(data, pos, 7)
                name, value = self._lookup(index)
            elif byte & 0xE0 == 0x20:  # dynamic table size update
                if seen_field:
                    raise HpackError("dynamic table size update after a header field")
                size, pos = decode_integer(data, pos, 5)
                if size > self.settings_table_size:
                    raise HpackError(
                        f"dynamic table size update to {size}, over our setting "
                        f"{self.settings_table_size}"
                    )
                self._max_size = size
                self._evict(size)
                continue
            else:  # literal: with incremental indexing (01), without (0000) or never (0001)
                indexing = byte & 0xC0 == 0x40
                index, pos = decode_integer(data, pos, 6 if indexing else 4)
                if index:
                    name = self._lookup(index)[0]
                else:
                    name, pos = self._string(data, pos)
                value, pos = self._string(data, pos)
                if indexing:
                    self._add(name, value)
            seen_field = True
            list_size += _entry_size(name, value)
            if list_size > self.max_header_list_size:
                raise HeaderListTooLarge(
                    f"decoded header list over {self.max_header_list_size} bytes"
                )
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
        return headers


def encode(headers: Sequence[Header]) -> bytes:
    """Encode as literals without indexing and with literal names (no Huffman, no table).

    Simple and always valid; our header blocks are one small request, so size does not matter.
    """
    out = bytearray()
    for name, value in headers:
        raw_name, raw_value = name.encode("latin-1"), value.encode("latin-1")
        out += b"\x00" + encode_integer(len(raw_name), 7) + raw_name
        out += encode_integer(len(raw_value), 7) + raw_value
    return bytes(out)
