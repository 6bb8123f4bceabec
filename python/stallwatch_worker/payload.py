"""The UDF payload: Init's inline bytes, then PayloadChunks up to the one with ``last``."""

from __future__ import annotations

import zlib
from typing import Callable

from .protocol import kind_of, pb


class ProtocolViolation(Exception):
    """The engine broke a stream rule: ProtocolError, then CancelResponse."""


class PayloadTooLarge(Exception):
    """The assembled payload is over the worker's limit: an init error, not a violation."""


def assemble_payload(
    init: pb.Init, take: Callable[[], pb.UdfRequest | None], max_bytes: int
) -> bytes:
    """Reads the chunks (``take`` returns the next request, None at the stream's end),
    never buffering past ``max_bytes``, then checks ``payload_size`` and ``payload_crc32``."""
    parts: list[bytes] = []
    size = 0

    def add(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size > max_bytes:
            raise PayloadTooLarge(
                f"UDF payload is larger than this worker's limit of {max_bytes} bytes"
            )
        parts.append(data)

    add(init.udf.payload)
    if init.is_chunking_payload:
        while True:
            request = take()
            if request is None:
                raise ProtocolViolation("the stream ended before the payload chunk with last=true")
            kind = kind_of(request)
            if kind != "payload":
                raise ProtocolViolation(
                    f"expected PayloadChunk while the payload is chunked, got {kind}"
                )
            add(request.control.payload.data)
            if request.control.payload.last:
                break
    payload = b"".join(parts)
    udf = init.udf
    if udf.HasField("payload_size") and udf.payload_size != len(payload):
        raise ProtocolViolation(
            f"payload_size says {udf.payload_size} bytes, the assembled payload has {len(payload)}"
        )
    if udf.HasField("payload_crc32"):
        actual = zlib.crc32(payload)
        if actual != udf.payload_crc32:
            raise ProtocolViolation(
                f"payload_crc32 mismatch: expected 0x{udf.payload_crc32:08x}, "
                f"the assembled payload has 0x{actual:08x}"
            )
    return payload
