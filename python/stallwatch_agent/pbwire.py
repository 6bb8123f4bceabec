"""The protobuf wire format by hand, for the helper process only.

The helper relays the agent protocol's messages between the worker and the
gateway and, while the GIL is held, writes a few answers of its own. Doing
that with the protobuf package would cost the helper ~7 MB of memory (its C
extension and the descriptors) for a handful of fields, so the helper reads
and writes those fields here, and passes everything else on as the bytes it
got. Field numbers live in agent_fields.py, checked against agent.proto's
descriptors by agent_fields_test.py; round trips are checked by parsing our
bytes with the real protobuf (pbwire_test.py, relay_test.py).

Parsing is linear in the input and bounded: a varint is at most 10 bytes, a
length may not run past its buffer, groups (wire types 3/4) are refused.
"""

from typing import Iterator, List, Tuple, Union

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5

Value = Union[int, bytes]


class WireError(ValueError):
    """Bytes that are not a well-formed protobuf message."""


def read_varint(buf: bytes, pos: int) -> Tuple[int, int]:
    """(value, next position); at most 10 bytes, as protobuf allows."""
    value = 0
    for shift in range(0, 70, 7):
        if pos >= len(buf):
            raise WireError("a varint runs past the end of the message")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value & 0xFFFFFFFFFFFFFFFF, pos
    raise WireError("a varint longer than 10 bytes")


def _spans(buf: bytes) -> Iterator[Tuple[int, int, int, int, Value]]:
    """(field number, wire type, start of its key, end of its value, value) for each field."""
    pos, end = 0, len(buf)
    while pos < end:
        start = pos
        key, pos = read_varint(buf, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        value: Value
        if wire_type == VARINT:
            value, pos = read_varint(buf, pos)
        elif wire_type == LEN:
            size, pos = read_varint(buf, pos)
            if size > end - pos:
                raise WireError(f"field {number}: {size} bytes past the end of the message")
            value = bytes(buf[pos : pos + size])
            pos += size
        elif wire_type in (FIXED64, FIXED32):
            width = 8 if wire_type == FIXED64 else 4
            if width > end - pos:
                raise WireError(f"field {number}: a fixed field past the end of the message")
            value = int.from_bytes(buf[pos : pos + width], "little")
            pos += width
        else:
            raise WireError(f"field {number}: wire type {wire_type} (groups are not used here)")
        yield number, wire_type, start, pos, value


def fields(buf: bytes) -> Iterator[Tuple[int, int, Value]]:
    """(field number, wire type, value) in order: ints for varints and fixed
    fields, bytes for length-delimited ones (strings, messages, packed)."""
    for number, wire_type, _, _, value in _spans(buf):
        yield number, wire_type, value


def last(buf: bytes, number: int, default: Value = 0) -> Value:
    """A singular field's value: protobuf keeps the last occurrence."""
    found = default
    for n, _, value in fields(buf):
        if n == number:
            found = value
    return found


def every(buf: bytes, number: int) -> List[Value]:
    """A repeated field's values, in order."""
    return [value for n, _, value in fields(buf) if n == number]


def text(buf: bytes, number: int) -> str:
    value = last(buf, number, b"")
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


def number_of(buf: bytes, number: int) -> int:
    value = last(buf, number, 0)
    return value if isinstance(value, int) else 0


def one_of(buf: bytes, numbers: Tuple[int, ...]) -> Tuple[int, bytes]:
    """Which of a oneof's message fields is set (the last one wins), and its bytes; (0, b"")."""
    which, body = 0, b""
    for n, wire_type, value in fields(buf):
        if n in numbers and wire_type == LEN and isinstance(value, bytes):
            which, body = n, value
    return which, body


def without(buf: bytes, numbers: Tuple[int, ...]) -> bytes:
    """The message with every occurrence of the given fields removed, the rest byte for byte."""
    out = bytearray()
    for number, _, start, end, _ in _spans(buf):
        if number not in numbers:
            out += buf[start:end]
    return bytes(out)


# Writing ---------------------------------------------------------------------


def varint(value: int) -> bytes:
    if value < 0:
        value &= 0xFFFFFFFFFFFFFFFF  # int64's two's complement, as protobuf writes it
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def uint_field(number: int, value: int) -> bytes:
    """A varint field (ints, enums, bools); zero is proto3's default and is not written."""
    return varint(number << 3 | VARINT) + varint(value) if value else b""


def bytes_field(number: int, value: bytes) -> bytes:
    """A length-delimited field, always written (a message may be present and empty)."""
    return varint(number << 3 | LEN) + varint(len(value)) + value


def string_field(number: int, value: str) -> bytes:
    """A string field; the empty string is proto3's default and is not written."""
    return bytes_field(number, value.encode("utf-8")) if value else b""
