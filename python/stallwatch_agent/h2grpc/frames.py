"""HTTP/2 frames (RFC 9113 section 4 and 6): constants, packing, and an incremental parser."""

import struct
from typing import NamedTuple, Optional

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Frame types (RFC 9113 section 6).
DATA = 0x0
HEADERS = 0x1
PRIORITY = 0x2
RST_STREAM = 0x3
SETTINGS = 0x4
PUSH_PROMISE = 0x5
PING = 0x6
GOAWAY = 0x7
WINDOW_UPDATE = 0x8
CONTINUATION = 0x9

# Flags.
END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

# Settings (RFC 9113 section 6.5.2).
HEADER_TABLE_SIZE = 0x1
ENABLE_PUSH = 0x2
MAX_CONCURRENT_STREAMS = 0x3
INITIAL_WINDOW_SIZE = 0x4
MAX_FRAME_SIZE = 0x5
MAX_HEADER_LIST_SIZE = 0x6

DEFAULT_MAX_FRAME_SIZE = 16384
DEFAULT_WINDOW_SIZE = 65535
MAX_WINDOW_SIZE = (1 << 31) - 1

# Error codes (RFC 9113 section 7).
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
FLOW_CONTROL_ERROR = 0x3
SETTINGS_TIMEOUT = 0x4
STREAM_CLOSED = 0x5
FRAME_SIZE_ERROR = 0x6
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
CONNECT_ERROR = 0xA
ENHANCE_YOUR_CALM = 0xB
INADEQUATE_SECURITY = 0xC
HTTP_1_1_REQUIRED = 0xD

ERROR_NAMES = (
    "NO_ERROR",
    "PROTOCOL_ERROR",
    "INTERNAL_ERROR",
    "FLOW_CONTROL_ERROR",
    "SETTINGS_TIMEOUT",
    "STREAM_CLOSED",
    "FRAME_SIZE_ERROR",
    "REFUSED_STREAM",
    "CANCEL",
    "COMPRESSION_ERROR",
    "CONNECT_ERROR",
    "ENHANCE_YOUR_CALM",
    "INADEQUATE_SECURITY",
    "HTTP_1_1_REQUIRED",
)

_HEADER = struct.Struct(">BHBBI")  # 24-bit length as (high byte, low 16 bits), type, flags, id


def error_name(code: int) -> str:
    return ERROR_NAMES[code] if 0 <= code < len(ERROR_NAMES) else f"error 0x{code:x}"


class Frame(NamedTuple):
    type: int
    flags: int
    stream_id: int
    payload: bytes


class H2Error(Exception):
    """An HTTP/2 connection error (RFC 9113 section 5.4.1): the code to send in GOAWAY."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def pack(type_: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    length = len(payload)
    return _HEADER.pack(length >> 16, length & 0xFFFF, type_, flags, stream_id) + payload


def settings_payload(*pairs: "tuple[int, int]") -> bytes:
    return b"".join(struct.pack(">HI", ident, value) for ident, value in pairs)


class FrameReader:
    """Parses frames out of bytes fed in any chunking; linear in the bytes fed.

    A frame header announcing more than max_frame_size is refused as soon as its 9 bytes are
    in (FRAME_SIZE_ERROR), before its payload is buffered.
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self.max_frame_size = max_frame_size
        self._buf = bytearray()
        self._pos = 0

    def feed(self, data: bytes) -> None:
        if self._pos and self._pos >= len(self._buf) // 2:
            del self._buf[: self._pos]  # compact: each byte is moved O(1) times on average
            self._pos = 0
        self._buf += data

    @property
    def pending(self) -> int:
        """Bytes buffered that do not yet make a whole frame."""
        return len(self._buf) - self._pos

    def next_frame(self) -> Optional[Frame]:
        if len(self._buf) - self._pos < 9:
            return None
        high, low, type_, flags, stream_id = _HEADER.unpack_from(self._buf, self._pos)
        length = (high << 16) | low
        if length > self.max_frame_size:
            raise H2Error(
                FRAME_SIZE_ERROR,
                f"frame of {length} bytes (type {type_}) is over our "
                f"SETTINGS_MAX_FRAME_SIZE {self.max_frame_size}",
            )
        end = self._pos + 9 + length
        if end > len(self._buf):
            return None
        payload = bytes(self._buf[self._pos + 9 : end])
        self._pos = end
        return Frame(type_, flags, stream_id & 0x7FFFFFFF, payload)

    def describe_partial(self) -> str:
        """For an early EOF: what the incomplete frame was, if any."""
        have = len(self._buf) - self._pos
        if have == 0:
            return ""
        if have < 9:
            return f" in the middle of a frame header ({have} of 9 bytes)"
        high, low = self._buf[self._pos], struct.unpack_from(">H", self._buf, self._pos + 1)[0]
        return f" in the middle of a frame ({have - 9} of {(high << 16) | low} payload bytes)"


def strip_padding(frame: Frame, priority_bytes: int = 0) -> bytes:
    """The payload of a DATA/HEADERS frame without PADDED padding and PRIORITY fields."""
    payload = frame.payload
    pad = 0
    start = 0
    if frame.flags & PADDED:
        if not payload:
            raise H2Error(PROTOCOL_ERROR, "PADDED frame without a pad length")
        pad = payload[0]
        start = 1
    start += priority_bytes
    if pad + start > len(payload):
        raise H2Error(
            PROTOCOL_ERROR, f"padding ({pad}) and fields longer than the frame ({len(payload)})"
        )
    return payload[start : len(payload) - pad]
