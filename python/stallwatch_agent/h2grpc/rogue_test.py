"""The client against raw servers that misbehave: each ends the call with a clear CallError,
the reader thread gone and no hang (every wait here has a timeout)."""

import socket
import struct
import time

import pytest

from . import frames as fr
from . import hpack, huffman
from .client import CallError, open_bidi_stream
from .conftest import wait_readers_gone
from .testing.rogue import RogueConnection, RogueServer

PATH = "/stallwatch.v1.AgentService/Connect"


def _fails(script, code, match, *, within_s=5.0, **options):
    """Open a call to a rogue server running `script`; the first receive() must fail."""
    with RogueServer(script) as server:
        start = time.monotonic()
        with pytest.raises(CallError) as info:
            call = open_bidi_stream(server.address, PATH, connect_timeout_s=2.0, **options)
            with call:
                call.receive(timeout_s=within_s)
        elapsed = time.monotonic() - start
        wait_readers_gone()
    assert info.value.code == code, info.value
    assert match in info.value.message, info.value.message
    assert elapsed < within_s
    return server


def test_no_settings_fails_within_connect_timeout():
    def script(conn: RogueConnection) -> None:
        conn.drain(timeout_s=5.0)  # reads, never answers

    with RogueServer(script) as server:
        start = time.monotonic()
        with pytest.raises(CallError) as info:
            open_bidi_stream(server.address, PATH, connect_timeout_s=0.5)
        elapsed = time.monotonic() - start
        wait_readers_gone()
    assert info.value.code == 14
    assert "no HTTP/2 SETTINGS" in info.value.message
    assert 0.4 < elapsed < 1.5


@pytest.mark.parametrize(
    "garbage, match",
    [
        (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "HTTP/1"),
        (b"garbage!" * 8, "FRAME_SIZE_ERROR"),
        (fr.pack(fr.PING, 0, 0, b"12345678"), "must start with SETTINGS"),
    ],
)
def test_garbage_instead_of_http2(garbage, match):
    def script(conn: RogueConnection) -> None:
        conn.send(garbage)
        conn.drain()

    with RogueServer(script) as server:
        with pytest.raises(CallError) as info:
            open_bidi_stream(server.address, PATH, connect_timeout_s=2.0)
        wait_readers_gone()
    assert info.value.code == 14 and match in info.value.message, info.value


def test_continuation_flood():
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        conn.frame(fr.HEADERS, 0, 1, hpack.encode([(":status", "200")]))
        try:
            for _ in range(100000):  # endless, until the client gives up on us
                conn.frame(fr.CONTINUATION, 0, 1, b"\x00\x01a\x01b" * 800)
        except OSError:
            pass

    server = _fails(script, 13, "header block over 16384 bytes")
    assert server.error is None


def test_continuation_flood_of_empty_frames():
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        conn.frame(fr.HEADERS, 0, 1, hpack.encode([(":status", "200")]))
        try:
            for _ in range(100000):
                conn.frame(fr.CONTINUATION, 0, 1, b"")
        except OSError:
            pass

    _fails(script, 13, "header block in over 64 CONTINUATION frames")


def test_send_after_close_send_is_a_programming_error():
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        conn.drain()

    with RogueServer(script) as server:
        with open_bidi_stream(server.address, PATH, connect_timeout_s=2.0) as call:
            call.send(b"one")
            call.close_send()
            call.close_send()  # once is enough; again is a no-op
            with pytest.raises(RuntimeError, match="after close_send"):
                call.send(b"two")
    data = server.frames_of_type(fr.DATA)
    assert [(f.flags, f.payload) for f in data] == [(0, b"\x00\x00\x00\x00\x03one"), (1, b"")]


def test_message_prefix_claiming_2_gib_is_refused_and_stream_cancelled():
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        conn.response_headers()
        conn.frame(fr.DATA, 0, 1, struct.pack(">BI", 0, 2 << 30) + b"xxxx")
        conn.drain()

    server = _fails(script, 8, "received message of 2147483648 bytes is over max_receive_bytes")
    resets = server.frames_of_type(fr.RST_STREAM)
    assert [struct.unpack(">I", f.payload)[0] for f in resets] == [fr.CANCEL]


@pytest.mark.parametrize(
    "block, match",
    [
        (b"\x0f\xff\xff\xff\xff\x7f", "HPACK integer over"),  # literal, name index overflowing
        (b"\x00\x01a\x81\x00", "Huffman padding is not all ones"),
        (b"\x00\x01a\x84\xff\xff\xff\xff", "EOS"),
        (b"\xc5", "index 69 out of range"),
        (b"\x3f\xe2\x1f", "size update to 4097"),
    ],
)
def test_bad_hpack_is_a_compression_error(block, match):
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        conn.frame(fr.HEADERS, fr.END_HEADERS, 1, block)
        conn.drain()

    server = _fails(script, 14, match)
    goaways = server.frames_of_type(fr.GOAWAY)
    assert goaways and struct.unpack(">II", goaways[0].payload[:8])[1] == fr.COMPRESSION_ERROR


def test_frame_over_max_frame_size():
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        conn.response_headers()
        conn.send(fr.pack(fr.DATA, 0, 1, b"x" * 16385))
        conn.drain()

    _fails(script, 14, "frame of 16385 bytes (type 0) is over our SETTINGS_MAX_FRAME_SIZE 16384")


@pytest.mark.parametrize("stream_id", [0, 1])
def test_window_update_overflow(stream_id):
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        conn.frame(fr.WINDOW_UPDATE, 0, stream_id, struct.pack(">I", (1 << 31) - 1))
        conn.drain()

    _fails(script, 14, "FLOW_CONTROL_ERROR from 127.0.0.1:")
    _fails(script, 14, f"send window of stream {stream_id} past 2^31-1")


def test_window_update_of_zero():
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        conn.frame(fr.WINDOW_UPDATE, 0, 0, struct.pack(">I", 0))
        conn.drain()

    _fails(script, 14, "WINDOW_UPDATE with increment 0")


def test_ping_flood():
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        try:
            conn.send(b"".join(fr.pack(fr.PING, 0, 0, struct.pack(">Q", i)) for i in range(5000)))
        except OSError:
            pass
        conn.drain()

    server = _fails(script, 14, "PING flood")
    # Answered up to the limit, then no more. (Our GOAWAY(ENHANCE_YOUR_CALM) is sent too, but
    # closing with unread pings makes the kernel reset the connection, which may discard it.)
    assert 1 <= len(server.frames_of_type(fr.PING)) <= 500


def test_window_never_opened_send_times_out_and_call_goes_on():
    def script(conn: RogueConnection) -> None:
        conn.handshake((fr.INITIAL_WINDOW_SIZE, 0))
        conn.drain()

    with RogueServer(script) as server:
        with open_bidi_stream(server.address, PATH, connect_timeout_s=2.0) as call:
            start = time.monotonic()
            with pytest.raises(CallError) as info:
                call.send(b"hello", timeout_s=0.5)
            assert 0.45 < time.monotonic() - start < 1.5
            assert info.value.code == 4
            assert "send blocked by HTTP/2 flow control for 0.5s (0 of 10 bytes" in str(info.value)
            assert not call.done  # nothing went out: the call is intact
    assert not server.frames_of_type(fr.DATA)


def test_send_timeout_mid_message_ends_the_call():
    def script(conn: RogueConnection) -> None:
        conn.handshake((fr.INITIAL_WINDOW_SIZE, 3))
        conn.drain()

    with RogueServer(script) as server:
        with open_bidi_stream(server.address, PATH, connect_timeout_s=2.0) as call:
            with pytest.raises(CallError, match=r"\(3 of 15 bytes sent"):
                call.send(b"0123456789", timeout_s=0.3)
            deadline = time.monotonic() + 2
            while not call.done and time.monotonic() < deadline:
                time.sleep(0.01)
            assert call.done
            with pytest.raises(CallError) as info:
                call.receive(timeout_s=1)
            assert info.value.code == 4
    assert [f.payload for f in server.frames_of_type(fr.DATA)] == [b"\x00\x00\x00"]


def test_closing_mid_frame():
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        conn.response_headers()
        conn.send(fr.pack(fr.DATA, 0, 1, b"x" * 100)[:19])
        conn.sock.shutdown(socket.SHUT_WR)  # FIN; a close() with unread input would be a reset
        conn.drain()

    _fails(script, 14, "in the middle of a frame (10 of 100 payload bytes)")


def test_keepalive_without_ping_ack():
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        conn.drain()  # reads our PING, never answers

    start = time.monotonic()
    server = _fails(script, 14, "keepalive: no PING ACK", keepalive_s=0.2, keepalive_timeout_s=0.3)
    assert time.monotonic() - start < 2
    assert server.frames_of_type(fr.PING)


def test_goaway_before_our_stream_with_debug_data():
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        conn.frame(fr.GOAWAY, 0, 0, struct.pack(">II", 0, fr.ENHANCE_YOUR_CALM) + b"x" * 500)
        conn.drain()

    _fails(script, 14, "sent GOAWAY(ENHANCE_YOUR_CALM, last stream 0): 'xxxx")


def test_goaway_after_our_stream_lets_it_finish():
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        conn.frame(fr.GOAWAY, 0, 0, struct.pack(">II", 1, fr.NO_ERROR))
        conn.response_headers()
        conn.message(b"last words")
        conn.trailers(0)
        conn.drain()

    with RogueServer(script) as server:
        with open_bidi_stream(server.address, PATH, connect_timeout_s=2.0) as call:
            assert call.receive(timeout_s=5) == b"last words"
            assert call.receive(timeout_s=5) is None


@pytest.mark.parametrize(
    "frame, code, match",
    [
        (fr.pack(fr.RST_STREAM, 0, 1, struct.pack(">I", fr.REFUSED_STREAM)), 14, "REFUSED"),
        (fr.pack(fr.RST_STREAM, 0, 1, struct.pack(">I", fr.CANCEL)), 1, "RST_STREAM(CANCEL)"),
        (fr.pack(fr.PUSH_PROMISE, fr.END_HEADERS, 1, b"\x00\x00\x00\x02"), 14, "PUSH_PROMISE"),
        (fr.pack(fr.DATA, 0, 1, b"\x00\x00\x00\x00\x00"), 13, "DATA before response headers"),
        (fr.pack(fr.SETTINGS, 0, 0, fr.settings_payload((fr.ENABLE_PUSH, 1))), 14, "ENABLE_PUSH"),
        (fr.pack(fr.SETTINGS, 0, 0, b"\x00" * 5), 14, "SETTINGS of 5 bytes"),
        (fr.pack(fr.HEADERS, 0, 1, b"\x88") + fr.pack(fr.PING, 0, 0, b"x" * 8), 14, "inside a"),
        (fr.pack(fr.CONTINUATION, fr.END_HEADERS, 1, b"\x88"), 14, "CONTINUATION without"),
        (fr.pack(fr.HEADERS, fr.END_HEADERS, 3, b"\x88"), 14, "HEADERS on stream 3"),
    ],
)
def test_protocol_violations(frame, code, match):
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        conn.send(frame)
        conn.drain()

    _fails(script, code, match)


def test_grpc_level_malformed_responses():
    def compressed(conn: RogueConnection) -> None:
        conn.handshake()
        conn.response_headers()
        conn.frame(fr.DATA, 0, 1, b"\x01\x00\x00\x00\x01x")
        conn.drain()

    def no_status(conn: RogueConnection) -> None:
        conn.handshake()
        conn.response_headers()
        conn.frame(fr.HEADERS, fr.END_HEADERS | fr.END_STREAM, 1, hpack.encode([("a", "b")]))
        conn.drain()

    def http_404(conn: RogueConnection) -> None:
        conn.handshake()
        block = hpack.encode([(":status", "404"), ("grpc-message", "no%20such")])
        conn.frame(fr.HEADERS, fr.END_HEADERS | fr.END_STREAM, 1, block)
        conn.drain()

    def html(conn: RogueConnection) -> None:
        conn.handshake()
        block = hpack.encode([(":status", "200"), ("content-type", "text/html")])
        conn.frame(fr.HEADERS, fr.END_HEADERS, 1, block)
        conn.drain()

    _fails(compressed, 13, "compressed, but we negotiated no encoding")
    _fails(no_status, 13, "without a grpc-status")
    _fails(http_404, 12, "HTTP status 404 from 127.0.0.1:")
    _fails(http_404, 12, ": no such")
    _fails(html, 13, "content-type 'text/html' is not gRPC")


def test_trailers_only_with_status_and_percent_encoded_message():
    def script(conn: RogueConnection) -> None:
        conn.handshake()
        block = hpack.encode(
            [(":status", "200"), ("content-type", "application/grpc"), ("grpc-status", "7")]
            + [("grpc-message", "acc%C3%A8s refus%C3%A9 %ZZ 100%")]
        )
        conn.frame(fr.HEADERS, fr.END_HEADERS | fr.END_STREAM, 1, block)
        conn.drain()

    _fails(script, 7, "accès refusé %ZZ 100%")


def test_padding_priority_continuation_huffman_and_dynamic_table_are_understood():
    def script(conn: RogueConnection) -> None:
        conn.handshake((fr.MAX_FRAME_SIZE, 20000), (fr.INITIAL_WINDOW_SIZE, 70000))
        # Response headers: PADDED | PRIORITY, split over a CONTINUATION, names indexed.
        status = b"\x88"  # :status 200 (static)
        coded = huffman.encode(b"application/grpc")
        content_type = b"\x5f" + bytes([0x80 | len(coded)]) + coded  # indexed name, Huffman
        fragment = bytes([3]) + b"\x00\x00\x00\x00\x10" + status + b"\x00\x00\x00"
        conn.frame(fr.HEADERS, fr.PADDED | fr.PRIORITY_FLAG, 1, fragment)
        conn.frame(fr.CONTINUATION, fr.END_HEADERS, 1, content_type)
        # One message over two padded DATA frames, an unknown frame type in between.
        body = struct.pack(">BI", 0, 6) + b"padded"
        conn.frame(fr.DATA, fr.PADDED, 1, bytes([4]) + body[:7] + b"\x00" * 4)
        conn.frame(0x42, 0, 1, b"ignore me")
        conn.frame(fr.DATA, fr.PADDED, 1, bytes([0]) + body[7:])
        # Trailers: content-type from the dynamic table (index 62), grpc-status with a Huffman name.
        coded = huffman.encode(b"grpc-status")
        trailer = b"\xbe\x40" + bytes([0x80 | len(coded)]) + coded + b"\x01" + b"0"
        conn.frame(fr.HEADERS, fr.END_HEADERS | fr.END_STREAM, 1, trailer)
        conn.drain()

    with RogueServer(script) as server:
        with open_bidi_stream(server.address, PATH, connect_timeout_s=2.0) as call:
            assert call.receive(timeout_s=5) == b"padded"
            assert call.receive(timeout_s=5) is None
            assert call.done
    assert server.error is None
