"""Frames between the worker and its helper process over a Unix socketpair.

A frame is a 4-byte big-endian length, one type byte and the payload; the
payloads are the agent protocol's own messages, serialized. Both ends are
our code, but a cap still bounds what one frame may allocate.
"""

import struct

ANNOUNCE = b"A"  # worker -> helper: Announce, first
REQUEST = b"Q"  # worker -> helper: ConnectRequest for the gateway
RESPONSE = b"R"  # helper -> worker: ConnectResponse from the gateway
ALIVE = b"L"  # worker -> helper: Python runs (payload: thread names as JSON when changed)
STOP = b"S"  # worker -> helper: disconnect and exit
SESSIONS = b"N"  # worker -> helper: StatusReport with live sessions (opened, named, each tick)

MAX_FRAME = 8 << 20
_HEAD = struct.Struct(">IB")


class FrameError(Exception):
    pass


def encode(kind, payload=b""):
    return _HEAD.pack(len(payload), kind[0]) + payload


def _read_exact(sock, n):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            return None
        got += k
    return bytes(buf)


def read_frame(sock):
    """(kind, payload), or None at end of stream."""
    head = _read_exact(sock, _HEAD.size)
    if head is None:
        return None
    size, kind = _HEAD.unpack(head)
    if size > MAX_FRAME:
        raise FrameError(f"frame of {size} bytes over the {MAX_FRAME}-byte cap")
    payload = _read_exact(sock, size) if size else b""
    if payload is None:
        return None
    return bytes([kind]), payload
