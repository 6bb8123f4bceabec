"""One gRPC bidirectional-streaming call over cleartext HTTP/2 (h2c with prior knowledge).

One TCP connection per call and stream id 1. A daemon reader thread parses frames; the
caller's threads send and receive. Every wait is bounded, every peer may be hostile, and
after any failure the socket is closed, the reader has exited and all waiters are woken.
"""

import select
import socket
import struct
import threading
import time
from collections import deque
from typing import Deque, Dict, List, Optional, Sequence, Tuple

from . import frames as fr
from . import hpack
from .resolve import resolve

OK = 0
CANCELLED = 1
UNKNOWN = 2
DEADLINE_EXCEEDED = 4
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
UNAUTHENTICATED = 16

_CODE_NAMES = (
    "OK CANCELLED UNKNOWN INVALID_ARGUMENT DEADLINE_EXCEEDED NOT_FOUND ALREADY_EXISTS "
    "PERMISSION_DENIED RESOURCE_EXHAUSTED FAILED_PRECONDITION ABORTED OUT_OF_RANGE "
    "UNIMPLEMENTED INTERNAL UNAVAILABLE DATA_LOSS UNAUTHENTICATED"
).split()

# gRPC's doc/http-grpc-status-mapping.md: HTTP status of a response without grpc-status.
_HTTP_TO_GRPC = {
    400: INTERNAL,
    401: UNAUTHENTICATED,
    403: PERMISSION_DENIED,
    404: UNIMPLEMENTED,
    429: UNAVAILABLE,
    502: UNAVAILABLE,
    503: UNAVAILABLE,
    504: UNAVAILABLE,
}
# The same document: RST_STREAM error codes; the others map to INTERNAL.
_RST_TO_GRPC = {
    fr.REFUSED_STREAM: UNAVAILABLE,
    fr.CANCEL: CANCELLED,
    fr.ENHANCE_YOUR_CALM: RESOURCE_EXHAUSTED,
    fr.INADEQUATE_SECURITY: PERMISSION_DENIED,
}

_STREAM = 1
_USER_AGENT = "stallwatch-agent-helper (pure-python h2)"
_RECV_WINDOW = 1 << 20  # our stream and connection receive windows
_MAX_FRAME = fr.DEFAULT_MAX_FRAME_SIZE
_MAX_HEADER_BLOCK = 16384  # HEADERS + CONTINUATION bytes, and the decoded header list
_MAX_CONTINUATIONS = 64  # empty CONTINUATION frames would never reach the byte cap
_MAX_QUEUED = 256  # messages waiting for receive() before we stop reopening the window
_MAX_CONTROL_PER_S = 500  # PING and SETTINGS frames we answer per second before calling it abuse
_WRITE_TIMEOUT_S = 10.0  # a peer that does not read for this long is gone
_HEX = frozenset(b"0123456789abcdefABCDEF")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


class CallError(Exception):
    """The call failed: a gRPC status code and a human-readable message."""

    def __init__(self, code: int, message: str) -> None:
        name = _CODE_NAMES[code] if 0 <= code < len(_CODE_NAMES) else str(code)
        super().__init__(f"{name}: {message}")
        self.code = code
        self.message = message


class _Fatal(Exception):
    """Raised inside the reader: end the call with `error`, then send these frames."""

    def __init__(self, error: CallError, goaway: int = fr.NO_ERROR, rst: Optional[int] = None):
        super().__init__(error.message)
        self.error = error
        self.goaway = goaway
        self.rst = rst


def _parse_address(address: str) -> Tuple[str, int]:
    if address.startswith("["):
        host, sep, rest = address[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, sep, port = address.rpartition(":")
        if ":" in host:
            sep = ""  # an IPv6 literal must be bracketed
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"address {address!r} is not host:port, [IPv6]:port or name:port")
    return host, int(port)


def _connect_tcp(host: str, port: int, deadline: float) -> socket.socket:
    """A TCP connection to the first address of host that accepts, all within the deadline
    (name resolution included: resolve.py)."""
    last: Optional[OSError] = None
    for family, addr in resolve(host, port, max(deadline - time.monotonic(), 0.001)):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(remaining)
            sock.connect(addr)
            return sock
        except OSError as err:
            sock.close()
            last = err
    raise last or OSError(f"no address of {host!r} answered in time")


def _check_metadata(metadata: Sequence[Tuple[str, str]]) -> None:
    for key, value in metadata:
        if not key or not set(key) <= _KEY_CHARS:
            raise ValueError(f"metadata key {key!r}: only lowercase a-z, 0-9, '-', '_', '.'")
        if not all(" " <= c <= "~" for c in value):
            raise ValueError(f"metadata value of {key!r} is not printable ASCII")


def _percent_decode(text: str) -> str:
    """grpc-message is percent-encoded UTF-8 (gRPC's PROTOCOL-HTTP2.md); bad escapes stay."""
    raw = text.encode("latin-1")
    out = bytearray()
    i = 0
    while i < len(raw):
        escape = raw[i + 1 : i + 3]
        if raw[i] == 0x25 and len(escape) == 2 and all(c in _HEX for c in escape):
            out.append(int(escape, 16))
            i += 3
            continue
        out.append(raw[i])
        i += 1
    return out.decode("utf-8", errors="replace")


def open_bidi_stream(
    address: str,
    method_path: str,
    metadata: Sequence[Tuple[str, str]] = (),
    *,
    connect_timeout_s: float = 5.0,
    max_receive_bytes: int = 4 << 20,
    max_send_bytes: int = 4 << 20,
    keepalive_s: float = 30.0,
    keepalive_timeout_s: float = 20.0,
) -> "BidiCall":
    """Connect, send the preface, our SETTINGS and the request HEADERS, and wait for the server's
    SETTINGS, all within connect_timeout_s (else CallError UNAVAILABLE). Does not wait for the
    response headers. ValueError for a bad address, path or metadata, before connecting."""
    host, port = _parse_address(address)
    if not method_path.startswith("/") or not all(" " < c <= "~" for c in method_path):
        raise ValueError(f"method path {method_path!r} must start with '/' and be printable ASCII")
    _check_metadata(metadata)
    headers = [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", method_path),
        (":authority", address),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("user-agent", _USER_AGENT),
    ]
    headers += list(metadata)
    call = BidiCall(address, max_receive_bytes, max_send_bytes, keepalive_s, keepalive_timeout_s)
    call._connect(host, port, hpack.encode(headers), connect_timeout_s)
    return call


class BidiCall:
    """A running call; made by open_bidi_stream."""

    def __init__(
        self,
        address: str,
        max_receive_bytes: int,
        max_send_bytes: int,
        keepalive_s: float,
        keepalive_timeout_s: float,
    ) -> None:
        self._address = address
        self._max_receive = max_receive_bytes
        self._max_send = max_send_bytes
        self._keepalive_s = keepalive_s
        self._keepalive_timeout_s = keepalive_timeout_s
        self._sock: Optional[socket.socket] = None
        self._reader: Optional[threading.Thread] = None
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._send_lock = threading.Lock()
        # Guarded by _cond:
        self._finished = False  # the call's outcome is known
        self._outcome: Optional[CallError] = None  # None with _finished: ended with status OK
        self._closed = False  # the transport is shut (or shutting)
        self._settings_received = False
        self._half_closed = False
        self._queue: Deque[bytes] = deque()
        self._queued_bytes = 0
        self._conn_send_window = fr.DEFAULT_WINDOW_SIZE
        self._stream_send_window = fr.DEFAULT_WINDOW_SIZE
        self._peer_initial_window = fr.DEFAULT_WINDOW_SIZE
        self._peer_max_frame = fr.DEFAULT_MAX_FRAME_SIZE
        self._conn_recv_window = _RECV_WINDOW
        self._stream_recv_window = _RECV_WINDOW
        self._uncredited = 0  # bytes received that we have not yet given back to the peer
        # Reader thread only:
        self._frames = fr.FrameReader(_MAX_FRAME)
        self._decoder = hpack.Decoder(4096, _MAX_HEADER_BLOCK)
        self._block = bytearray()
        self._block_flags = 0
        self._block_frames = 0
        self._in_block = False
        self._response_started = False
        self._remote_closed = False
        self._prefix = bytearray()
        self._message = bytearray()
        self._message_len: Optional[int] = None
        self._goaway = ""
        self._last_recv = time.monotonic()
        self._ping_sent_at: Optional[float] = None
        self._ping_payload = b""
        self._pings = 0
        self._control_window_start = 0.0
        self._control_count = 0

    # -- public API ------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """The call has ended: the server sent its status, it failed, or it was cancelled."""
        with self._cond:
            return self._finished

    def send(self, message: bytes, timeout_s: float = 10.0) -> None:
        """Send one message, waiting up to timeout_s for flow-control window. Thread-safe.

        A timeout before any byte of the message went out leaves the call running; a timeout
        in the middle of a message would corrupt the stream, so it cancels the call."""
        size = len(message)
        if size > self._max_send:
            raise CallError(
                RESOURCE_EXHAUSTED,
                f"message of {size} bytes is over max_send_bytes {self._max_send}; nothing sent",
            )
        deadline = time.monotonic() + timeout_s
        if not self._send_lock.acquire(timeout=max(timeout_s, 0.0)):
            raise CallError(DEADLINE_EXCEEDED, f"another send held the call for {timeout_s}s")
        try:
            data = memoryview(struct.pack(">BI", 0, size) + message)
            sent = 0
            while sent < len(data):
                with self._cond:
                    allowance = self._wait_for_window(deadline)
                    if allowance == 0:
                        timeout = self._send_timeout(timeout_s, sent, len(data))
                        break
                    chunk = min(allowance, len(data) - sent)
                    self._conn_send_window -= chunk
                    self._stream_send_window -= chunk
                self._write(fr.pack(fr.DATA, 0, _STREAM, bytes(data[sent : sent + chunk])))
                sent += chunk
            else:
                return
        finally:
            self._send_lock.release()
        if sent:  # a partial message would corrupt the stream: the call cannot go on
            rst = fr.pack(fr.RST_STREAM, 0, _STREAM, struct.pack(">I", fr.CANCEL))
            self._end(timeout, rst + self._goaway_frame(fr.NO_ERROR))
        raise timeout

    def receive(self, timeout_s: Optional[float] = None) -> Optional[bytes]:
        """The next message; None once the server ended the call with status OK. Raises CallError
        when the call failed, TimeoutError when timeout_s passes (the call goes on)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            while not self._queue:
                if self._finished:
                    if self._outcome is None:
                        return None
                    raise CallError(self._outcome.code, self._outcome.message)
                wait = 1.0  # wake now and then even without a deadline; the reader bounds the rest
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                    if wait <= 0:
                        raise TimeoutError(f"no message within {timeout_s}s")
                self._cond.wait(wait)
            message = self._queue.popleft()
            self._queued_bytes -= len(message)
            credit = self._take_credit()
        if credit:
            try:
                self._send_window_update(credit)
            except CallError:
                pass  # the call has failed; the next receive() says so
        return message

    def close_send(self) -> None:
        """Half-close: no more messages from us (an empty DATA frame with END_STREAM)."""
        if not self._send_lock.acquire(timeout=_WRITE_TIMEOUT_S):
            raise CallError(DEADLINE_EXCEEDED, "a send held the call; could not half-close")
        try:
            with self._cond:
                if self._finished or self._half_closed:
                    return
                self._half_closed = True
            self._write(fr.pack(fr.DATA, fr.END_STREAM, _STREAM))
        finally:
            self._send_lock.release()

    def cancel(self) -> None:
        """RST_STREAM(CANCEL) and GOAWAY, best effort, and close. Idempotent; wakes waiters."""
        frames = fr.pack(fr.RST_STREAM, 0, _STREAM, struct.pack(">I", fr.CANCEL))
        error = CallError(CANCELLED, "cancelled by the client")
        self._end(error, frames + self._goaway_frame(fr.NO_ERROR), drop_queued=True)
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=2.0)

    def __enter__(self) -> "BidiCall":
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()

    # -- connecting ------------------------------------------------------------------------

    def _connect(self, host: str, port: int, header_block: bytes, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        try:
            sock = _connect_tcp(host, port, deadline)
        except OSError as e:
            raise CallError(UNAVAILABLE, f"cannot connect to {self._address}: {e}") from None
        self._sock = sock
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            settings = fr.settings_payload(
                (fr.HEADER_TABLE_SIZE, 4096),
                (fr.ENABLE_PUSH, 0),
                (fr.INITIAL_WINDOW_SIZE, _RECV_WINDOW),
                (fr.MAX_FRAME_SIZE, _MAX_FRAME),
                (fr.MAX_HEADER_LIST_SIZE, _MAX_HEADER_BLOCK),
            )
            out = [
                fr.PREFACE,
                fr.pack(fr.SETTINGS, 0, 0, settings),
                fr.pack(
                    fr.WINDOW_UPDATE, 0, 0, struct.pack(">I", _RECV_WINDOW - fr.DEFAULT_WINDOW_SIZE)
                ),
            ]
            # The request's header block: HEADERS, then CONTINUATION if over the default frame size.
            chunks = [
                header_block[i : i + _MAX_FRAME] for i in range(0, len(header_block), _MAX_FRAME)
            ]
            for i, chunk in enumerate(chunks):
                flags = fr.END_HEADERS if i == len(chunks) - 1 else 0
                out.append(
                    fr.pack(fr.HEADERS if i == 0 else fr.CONTINUATION, flags, _STREAM, chunk)
                )
            sock.sendall(b"".join(out))
            sock.settimeout(_WRITE_TIMEOUT_S)  # reads wait in poll(); this bounds writes
        except OSError as e:
            sock.close()
            raise CallError(UNAVAILABLE, f"cannot start HTTP/2 with {self._address}: {e}") from None
        self._last_recv = time.monotonic()
        self._reader = threading.Thread(
            target=self._run, name="stallwatch-agent-h2-reader", daemon=True
        )
        self._reader.start()
        with self._cond:
            while not self._settings_received and not self._finished:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            ready = self._settings_received
            outcome = self._outcome
        if ready:  # even if the call has already ended: receive() tells how, after its messages
            return
        if outcome is not None:
            self.cancel()
            raise CallError(outcome.code, outcome.message)
        error = CallError(
            UNAVAILABLE,
            f"no HTTP/2 SETTINGS from {self._address} within {timeout_s}s "
            "(not an h2c server, or not answering)",
        )
        self._end(error, self._goaway_frame(fr.SETTINGS_TIMEOUT))
        self.cancel()
        raise error

    # -- sending helpers -------------------------------------------------------------------

    def _raise_if_unsendable(self) -> None:
        if self._finished:
            if self._outcome is not None:
                raise CallError(self._outcome.code, self._outcome.message)
            raise CallError(UNAVAILABLE, "the call has ended: the server finished it with OK")
        if self._half_closed:
            raise RuntimeError("send() after close_send()")

    def _wait_for_window(self, deadline: float) -> int:
        """With _cond held: bytes we may send now in one frame, or 0 once the deadline passed."""
        while True:
            self._raise_if_unsendable()
            allowance = min(self._conn_send_window, self._stream_send_window, self._peer_max_frame)
            if allowance > 0:
                return allowance
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return 0
            self._cond.wait(remaining)

    def _send_timeout(self, timeout_s: float, sent: int, total: int) -> CallError:
        return CallError(
            DEADLINE_EXCEEDED,
            f"send blocked by HTTP/2 flow control for {timeout_s}s ({sent} of {total} bytes "
            f"sent; send windows: connection {self._conn_send_window}, "
            f"stream {self._stream_send_window})",
        )

    def _write(self, data: bytes) -> None:
        """Write whole frames, or fail the call (UNAVAILABLE) and raise."""
        sock = self._sock
        assert sock is not None
        failure: Optional[str] = None
        if not self._write_lock.acquire(timeout=_WRITE_TIMEOUT_S):
            failure = f"no write to {self._address} possible for {_WRITE_TIMEOUT_S}s"
        else:
            try:
                sock.sendall(data)
            except OSError as e:
                failure = f"write to {self._address} failed: {e or type(e).__name__}"
            finally:
                self._write_lock.release()
        if failure is not None:
            with self._cond:
                error = self._outcome if self._finished and self._outcome else None
            error = error or CallError(UNAVAILABLE, failure)
            self._end(error, b"")
            raise CallError(error.code, error.message)

    def _goaway_frame(self, code: int, debug: bytes = b"") -> bytes:
        return fr.pack(fr.GOAWAY, 0, 0, struct.pack(">II", 0, code) + debug[:256])

    def _send_window_update(self, credit: int) -> None:
        increment = struct.pack(">I", credit)
        self._write(
            fr.pack(fr.WINDOW_UPDATE, 0, 0, increment)
            + fr.pack(fr.WINDOW_UPDATE, 0, _STREAM, increment)
        )

    def _take_credit(self) -> int:
        """With _cond held: bytes to give back to the peer, if the consumer keeps up.

        While the queue is full we give nothing back, so a fast server stalls on flow control
        instead of filling our memory."""
        if self._finished or len(self._queue) >= _MAX_QUEUED:
            return 0
        if self._queued_bytes >= self._max_receive or self._uncredited < _RECV_WINDOW // 4:
            return 0
        credit, self._uncredited = self._uncredited, 0
        self._conn_recv_window += credit
        self._stream_recv_window += credit
        return credit

    # -- ending ----------------------------------------------------------------------------

    def _end(self, outcome: Optional[CallError], frames: bytes, drop_queued: bool = False) -> None:
        """Record the outcome (the first one wins), send `frames` best effort, shut the socket."""
        with self._cond:
            if not self._finished:
                self._finished = True
                self._outcome = outcome
                if drop_queued:  # cancel(): receive() raises at once
                    self._queue.clear()
                    self._queued_bytes = 0
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        sock = self._sock
        if sock is None:
            return
        if frames and self._write_lock.acquire(timeout=0.5):
            try:
                sock.settimeout(0.5)
                sock.sendall(frames)
            except OSError:
                pass
            finally:
                self._write_lock.release()
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes the reader's poll() and any sendall()
        except OSError:
            pass
        reader = self._reader
        if reader is None or reader is threading.current_thread() or not reader.is_alive():
            sock.close()

    # -- the reader thread -----------------------------------------------------------------

    def _run(self) -> None:
        sock = self._sock
        assert sock is not None
        poller = select.poll()  # not select(): no FD_SETSIZE limit on the descriptor
        poller.register(sock, select.POLLIN)
        try:
            while not self._closed:
                wait = self._keepalive()
                if self._closed:
                    break
                if not poller.poll(max(wait, 0.0) * 1000 + 1):
                    continue
                data = sock.recv(65536)
                if not data:
                    self._on_eof()
                    break
                self._last_recv = time.monotonic()
                if not self._settings_received and data.startswith(b"HTTP/"):
                    line = data.split(b"\r\n", 1)[0][:80].decode("latin-1")
                    raise _Fatal(
                        CallError(UNAVAILABLE, f"server answered in HTTP/1 ({line!r}), not h2c")
                    )
                self._frames.feed(data)
                while not self._closed:
                    frame = self._frames.next_frame()
                    if frame is None:
                        break
                    self._on_frame(frame)
        except _Fatal as e:
            frames = b""
            if e.rst is not None:
                frames = fr.pack(fr.RST_STREAM, 0, _STREAM, struct.pack(">I", e.rst))
            self._end(e.error, frames + self._goaway_frame(e.goaway))
        except fr.H2Error as e:
            message = f"HTTP/2 {fr.error_name(e.code)} from {self._address}: {e.message}"
            self._end(
                CallError(UNAVAILABLE, message), self._goaway_frame(e.code, e.message.encode())
            )
        except CallError:
            pass  # a write failed; _write has ended the call
        except (OSError, ValueError) as e:  # ValueError: a socket closed under us
            partial = self._frames.describe_partial()
            message = f"connection to {self._address} failed{partial}: {e}"
            self._end(CallError(UNAVAILABLE, message), b"")
        except Exception as e:  # a bug here must not leave waiters hanging
            self._end(CallError(INTERNAL, f"h2 reader failed: {e!r}"), b"")
        finally:
            self._end(CallError(UNAVAILABLE, "connection closed"), b"")
            sock.close()

    def _keepalive(self) -> float:
        """Ping when idle; fail when a ping goes unanswered. Returns how long poll() may wait."""
        now = time.monotonic()
        if self._ping_sent_at is not None:
            left = self._ping_sent_at + self._keepalive_timeout_s - now
            if left <= 0:
                raise _Fatal(
                    CallError(
                        UNAVAILABLE,
                        f"keepalive: no PING ACK from {self._address} within "
                        f"{self._keepalive_timeout_s}s",
                    ),
                    fr.NO_ERROR,
                )
            return left
        idle = now - self._last_recv
        if idle < self._keepalive_s:
            return self._keepalive_s - idle
        self._pings += 1
        self._ping_payload = struct.pack(">Q", self._pings)
        self._ping_sent_at = now
        self._write(fr.pack(fr.PING, 0, 0, self._ping_payload))
        return self._keepalive_timeout_s

    def _on_eof(self) -> None:
        with self._cond:
            if self._finished:
                return
        reason = f"connection closed by {self._address}{self._frames.describe_partial()}"
        if self._goaway:
            reason += f" after {self._goaway}"
        elif not self._settings_received:
            reason += " before its HTTP/2 SETTINGS"
        self._end(CallError(UNAVAILABLE, reason), b"")

    def _on_frame(self, f: fr.Frame) -> None:
        if not self._settings_received and (f.type != fr.SETTINGS or f.flags & fr.ACK):
            raise fr.H2Error(
                fr.PROTOCOL_ERROR,
                f"server preface must start with SETTINGS, got frame type {f.type}",
            )
        if self._in_block and f.type != fr.CONTINUATION:
            raise fr.H2Error(fr.PROTOCOL_ERROR, f"frame type {f.type} inside a header block")
        handler = _HANDLERS.get(f.type)
        if handler is not None:
            handler(self, f)  # unknown frame types are ignored (RFC 9113 section 4.1)

    def _count_control(self, what: str) -> None:
        """PINGs and SETTINGS make us write; a peer sending floods of them is abusive."""
        now = time.monotonic()
        if now - self._control_window_start >= 1.0:
            self._control_window_start, self._control_count = now, 0
        self._control_count += 1
        if self._control_count > _MAX_CONTROL_PER_S:
            raise fr.H2Error(
                fr.ENHANCE_YOUR_CALM,
                f"{what} flood: over {_MAX_CONTROL_PER_S} PING/SETTINGS frames in a second",
            )

    def _on_settings(self, f: fr.Frame) -> None:
        if f.stream_id:
            raise fr.H2Error(fr.PROTOCOL_ERROR, "SETTINGS on a stream")
        if f.flags & fr.ACK:
            if f.payload:
                raise fr.H2Error(fr.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload")
            return
        if len(f.payload) % 6:
            raise fr.H2Error(fr.FRAME_SIZE_ERROR, f"SETTINGS of {len(f.payload)} bytes")
        self._count_control("SETTINGS")
        for ident, value in struct.iter_unpack(">HI", f.payload):
            if ident == fr.ENABLE_PUSH and value != 0:
                raise fr.H2Error(fr.PROTOCOL_ERROR, f"server sent SETTINGS_ENABLE_PUSH {value}")
            if ident == fr.INITIAL_WINDOW_SIZE:
                if value > fr.MAX_WINDOW_SIZE:
                    raise fr.H2Error(fr.FLOW_CONTROL_ERROR, f"SETTINGS_INITIAL_WINDOW_SIZE {value}")
                with self._cond:
                    self._stream_send_window += value - self._peer_initial_window
                    self._peer_initial_window = value
                    if self._stream_send_window > fr.MAX_WINDOW_SIZE:
                        raise fr.H2Error(fr.FLOW_CONTROL_ERROR, "stream window past 2^31-1")
                    self._cond.notify_all()
            elif ident == fr.MAX_FRAME_SIZE:
                if not fr.DEFAULT_MAX_FRAME_SIZE <= value <= (1 << 24) - 1:
                    raise fr.H2Error(fr.PROTOCOL_ERROR, f"SETTINGS_MAX_FRAME_SIZE {value}")
                with self._cond:
                    self._peer_max_frame = value
            # HEADER_TABLE_SIZE needs nothing: our encoder never uses the dynamic table.
        self._write(fr.pack(fr.SETTINGS, fr.ACK, 0))
        with self._cond:
            self._settings_received = True
            self._cond.notify_all()

    def _on_ping(self, f: fr.Frame) -> None:
        if f.stream_id:
            raise fr.H2Error(fr.PROTOCOL_ERROR, "PING on a stream")
        if len(f.payload) != 8:
            raise fr.H2Error(fr.FRAME_SIZE_ERROR, f"PING of {len(f.payload)} bytes")
        if f.flags & fr.ACK:
            if f.payload == self._ping_payload:
                self._ping_sent_at = None
            return
        self._count_control("PING")
        self._write(fr.pack(fr.PING, fr.ACK, 0, f.payload))

    def _on_window_update(self, f: fr.Frame) -> None:
        if len(f.payload) != 4:
            raise fr.H2Error(fr.FRAME_SIZE_ERROR, f"WINDOW_UPDATE of {len(f.payload)} bytes")
        increment = struct.unpack(">I", f.payload)[0] & 0x7FFFFFFF
        if increment == 0:
            raise fr.H2Error(
                fr.PROTOCOL_ERROR, f"WINDOW_UPDATE with increment 0 on stream {f.stream_id}"
            )
        with self._cond:
            if f.stream_id == 0:
                self._conn_send_window += increment
                window = self._conn_send_window
            elif f.stream_id == _STREAM:
                self._stream_send_window += increment
                window = self._stream_send_window
            else:
                return
            if window > fr.MAX_WINDOW_SIZE:
                raise fr.H2Error(
                    fr.FLOW_CONTROL_ERROR,
                    f"WINDOW_UPDATE takes the send window of stream {f.stream_id} past 2^31-1",
                )
            self._cond.notify_all()

    def _on_rst_stream(self, f: fr.Frame) -> None:
        if f.stream_id != _STREAM:
            raise fr.H2Error(fr.PROTOCOL_ERROR, f"RST_STREAM on stream {f.stream_id}")
        if len(f.payload) != 4:
            raise fr.H2Error(fr.FRAME_SIZE_ERROR, f"RST_STREAM of {len(f.payload)} bytes")
        code = struct.unpack(">I", f.payload)[0]
        error = CallError(
            _RST_TO_GRPC.get(code, INTERNAL),
            f"stream reset by {self._address}: RST_STREAM({fr.error_name(code)})",
        )
        self._end(error, self._goaway_frame(fr.NO_ERROR))

    def _on_goaway(self, f: fr.Frame) -> None:
        if f.stream_id:
            raise fr.H2Error(fr.PROTOCOL_ERROR, "GOAWAY on a stream")
        if len(f.payload) < 8:
            raise fr.H2Error(fr.FRAME_SIZE_ERROR, f"GOAWAY of {len(f.payload)} bytes")
        last_stream, code = struct.unpack_from(">II", f.payload)
        last_stream &= 0x7FFFFFFF
        self._goaway = f"GOAWAY({fr.error_name(code)}, last stream {last_stream})"
        debug = f.payload[8:]
        if debug:
            text = debug[:200].decode("utf-8", errors="replace")
            self._goaway += f": {text!r}" + ("..." if len(debug) > 200 else "")
        if last_stream < _STREAM:  # the server will not process our call
            error = CallError(UNAVAILABLE, f"{self._address} sent {self._goaway}")
            self._end(error, self._goaway_frame(fr.NO_ERROR))
        # else: our stream may still finish; the EOF that follows says what happened if not.

    def _on_headers(self, f: fr.Frame) -> None:
        if f.stream_id != _STREAM:
            raise fr.H2Error(fr.PROTOCOL_ERROR, f"HEADERS on stream {f.stream_id}")
        priority = 5 if f.flags & fr.PRIORITY_FLAG else 0
        self._block = bytearray(fr.strip_padding(f, priority))
        self._block_flags = f.flags
        self._block_frames = 1
        self._in_block = True
        self._continue_block(f.flags)

    def _on_continuation(self, f: fr.Frame) -> None:
        if not self._in_block or f.stream_id != _STREAM:
            raise fr.H2Error(fr.PROTOCOL_ERROR, "CONTINUATION without an open header block")
        self._block += f.payload
        self._block_frames += 1
        if self._block_frames > _MAX_CONTINUATIONS:
            raise _Fatal(
                CallError(
                    INTERNAL,
                    f"response header block in over {_MAX_CONTINUATIONS} CONTINUATION frames",
                ),
                fr.ENHANCE_YOUR_CALM,
            )
        self._continue_block(f.flags)

    def _continue_block(self, flags: int) -> None:
        if len(self._block) > _MAX_HEADER_BLOCK:
            raise _Fatal(
                CallError(
                    INTERNAL,
                    f"response header block over {_MAX_HEADER_BLOCK} bytes "
                    "(HEADERS + CONTINUATION)",
                ),
                fr.ENHANCE_YOUR_CALM,
            )
        if not flags & fr.END_HEADERS:
            return
        self._in_block = False
        try:
            headers = self._decoder.decode(bytes(self._block))
        except hpack.HeaderListTooLarge as e:
            raise _Fatal(CallError(INTERNAL, f"response headers: {e}"), fr.ENHANCE_YOUR_CALM)
        except hpack.HpackError as e:
            raise fr.H2Error(fr.COMPRESSION_ERROR, f"HPACK: {e}") from None
        self._on_header_list(headers, bool(self._block_flags & fr.END_STREAM))

    def _on_header_list(self, headers: List[Tuple[str, str]], end_stream: bool) -> None:
        if self._remote_closed:
            raise fr.H2Error(fr.STREAM_CLOSED, "HEADERS after the server's END_STREAM")
        fields: Dict[str, str] = dict(headers)
        if not self._response_started:
            self._response_started = True
            status = fields.get(":status")
            if status is None:
                raise _Fatal(CallError(INTERNAL, "response headers without :status"))
            if status != "200":
                code = _HTTP_TO_GRPC.get(int(status) if status.isdigit() else 0, UNKNOWN)
                message = f"HTTP status {status} from {self._address}"
                if "grpc-message" in fields:
                    message += f": {_percent_decode(fields['grpc-message'])}"
                raise _Fatal(CallError(code, message), rst=None if end_stream else fr.CANCEL)
            if not end_stream:
                content_type = fields.get("content-type", "")
                if not content_type.startswith("application/grpc"):
                    raise _Fatal(
                        CallError(INTERNAL, f"response content-type {content_type!r} is not gRPC"),
                        rst=fr.CANCEL,
                    )
                return
        elif not end_stream:
            raise _Fatal(CallError(INTERNAL, "trailers without END_STREAM"), rst=fr.CANCEL)
        self._remote_closed = True
        self._on_trailers(fields)

    def _on_trailers(self, fields: Dict[str, str]) -> None:
        if self._message_len is not None or self._prefix:
            raise _Fatal(CallError(INTERNAL, "the server ended the call inside a message"))
        status = fields.get("grpc-status")
        outcome: Optional[CallError]
        if status is None:
            outcome = CallError(INTERNAL, "the server ended the call without a grpc-status")
        elif not status.isdigit() or len(status) > 3:
            outcome = CallError(INTERNAL, f"malformed grpc-status {status[:20]!r}")
        elif int(status) == OK:
            outcome = None
        else:
            message = _percent_decode(fields.get("grpc-message", ""))
            outcome = CallError(int(status), message or f"grpc-status {status} without a message")
        self._end(outcome, self._goaway_frame(fr.NO_ERROR))

    def _on_data(self, f: fr.Frame) -> None:
        if f.stream_id != _STREAM:
            raise fr.H2Error(fr.PROTOCOL_ERROR, f"DATA on stream {f.stream_id}")
        size = len(f.payload)
        with self._cond:
            if size > min(self._conn_recv_window, self._stream_recv_window):
                raise fr.H2Error(
                    fr.FLOW_CONTROL_ERROR,
                    f"DATA of {size} bytes past our receive window "
                    f"({min(self._conn_recv_window, self._stream_recv_window)})",
                )
            self._conn_recv_window -= size
            self._stream_recv_window -= size
            self._uncredited += size
        if self._remote_closed:
            raise fr.H2Error(fr.STREAM_CLOSED, "DATA after the server's END_STREAM")
        if not self._response_started:
            raise _Fatal(CallError(INTERNAL, "DATA before response headers"), rst=fr.CANCEL)
        body = fr.strip_padding(f)
        messages = self._parse_messages(body)
        with self._cond:
            self._queue.extend(messages)
            self._queued_bytes += sum(len(m) for m in messages)
            credit = self._take_credit()
            self._cond.notify_all()
        if credit:
            self._send_window_update(credit)
        if f.flags & fr.END_STREAM:
            self._remote_closed = True
            self._on_trailers({})  # no trailers: no grpc-status

    def _parse_messages(self, body: bytes) -> List[bytes]:
        """Split DATA bytes into gRPC messages (5-byte prefix: compressed flag, length)."""
        messages = []
        pos = 0
        while pos < len(body):
            if self._message_len is None:
                take = min(5 - len(self._prefix), len(body) - pos)
                self._prefix += body[pos : pos + take]
                pos += take
                if len(self._prefix) < 5:
                    break
                flag, length = struct.unpack(">BI", self._prefix)
                self._prefix.clear()
                if flag != 0:
                    raise _Fatal(
                        CallError(
                            INTERNAL,
                            f"message flag {flag}: compressed, but we negotiated no encoding",
                        ),
                        rst=fr.CANCEL,
                    )
                if length > self._max_receive:
                    raise _Fatal(
                        CallError(
                            RESOURCE_EXHAUSTED,
                            f"received message of {length} bytes is over max_receive_bytes "
                            f"{self._max_receive}",
                        ),
                        rst=fr.CANCEL,
                    )
                self._message_len = length
            else:
                take = min(self._message_len - len(self._message), len(body) - pos)
                self._message += body[pos : pos + take]
                pos += take
            if self._message_len is not None and len(self._message) == self._message_len:
                messages.append(bytes(self._message))
                self._message = bytearray()
                self._message_len = None
        return messages

    def _on_priority(self, f: fr.Frame) -> None:
        if len(f.payload) != 5:
            raise fr.H2Error(fr.FRAME_SIZE_ERROR, f"PRIORITY of {len(f.payload)} bytes")

    def _on_push_promise(self, f: fr.Frame) -> None:
        raise fr.H2Error(fr.PROTOCOL_ERROR, "PUSH_PROMISE although we sent SETTINGS_ENABLE_PUSH 0")


_HANDLERS = {
    fr.DATA: BidiCall._on_data,
    fr.HEADERS: BidiCall._on_headers,
    fr.PRIORITY: BidiCall._on_priority,
    fr.RST_STREAM: BidiCall._on_rst_stream,
    fr.SETTINGS: BidiCall._on_settings,
    fr.PUSH_PROMISE: BidiCall._on_push_promise,
    fr.PING: BidiCall._on_ping,
    fr.GOAWAY: BidiCall._on_goaway,
    fr.WINDOW_UPDATE: BidiCall._on_window_update,
    fr.CONTINUATION: BidiCall._on_continuation,
}
