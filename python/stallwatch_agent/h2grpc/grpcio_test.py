"""The client against Debian's grpcio server (a peer we did not write), on loopback."""

import concurrent.futures
import socket
import threading
import time

import grpc
import pytest

from .client import CallError, open_bidi_stream

PATH = "/stallwatch.v1.AgentService/Connect"
MiB = 1 << 20


class Servicer:
    """Behaviour chosen by the x-mode metadata; what the server saw is kept for the test."""

    def __init__(self) -> None:
        self.metadata: list = []
        self.cancel_seen = threading.Event()
        self.in_call = threading.Event()
        self.yielded = 0

    def connect(self, requests, context):
        metadata = dict(context.invocation_metadata())
        self.metadata.append(metadata)
        mode = metadata.get("x-mode", "echo")
        if mode == "abort":
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "jeton refusé ✗ (grpcio)")
        if mode == "ok-now":
            return
        if mode == "big":
            yield b"x" * (2 * MiB)
            return
        if mode == "flood":  # as fast as flow control lets it
            for i in range(400):
                self.yielded = i + 1
                yield b"%06d" % i + b"f" * (64 * 1024 - 6)
            return
        for request in requests:
            yield request
            self.in_call.set()
            if mode == "wait-cancel":
                deadline = time.monotonic() + 10
                while context.is_active() and time.monotonic() < deadline:
                    time.sleep(0.01)
                if not context.is_active():
                    self.cancel_seen.set()
                return


@pytest.fixture
def server():
    servicer = Servicer()
    handler = grpc.method_handlers_generic_handler(
        "stallwatch.v1.AgentService",
        {"Connect": grpc.stream_stream_rpc_method_handler(servicer.connect)},
    )
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=8)
    options = [("grpc.max_receive_message_length", 8 * MiB)]
    options += [("grpc.max_send_message_length", 8 * MiB)]
    grpc_server = grpc.server(pool, handlers=[handler], options=options)
    port = grpc_server.add_insecure_port("127.0.0.1:0")
    grpc_server.start()
    grpc_server.servicer = servicer
    grpc_server.address = f"127.0.0.1:{port}"
    yield grpc_server
    grpc_server.stop(0).wait(5)
    pool.shutdown(wait=False)


def test_echo_many_messages_and_metadata(server):
    metadata = [("authorization", "Bearer t0k3n"), ("x-agent", "py-1")]
    with open_bidi_stream(server.address, PATH, metadata) as call:
        for i in range(300):
            call.send(b"message %d" % i, timeout_s=5)
        call.close_send()
        received = []
        while (message := call.receive(timeout_s=10)) is not None:
            received.append(message)
        assert received == [b"message %d" % i for i in range(300)]
        assert call.done
    seen = server.servicer.metadata[0]
    assert seen["authorization"] == "Bearer t0k3n" and seen["x-agent"] == "py-1"
    assert seen["user-agent"].startswith("stallwatch-agent-helper (pure-python h2)")


def test_big_messages_both_ways_cross_flow_control_windows(server):
    with open_bidi_stream(server.address, PATH) as call:
        for size in (MiB, 3 * MiB, 0, 70000):
            payload = bytes(range(256)) * (size // 256) + b"t" * (size % 256)
            call.send(payload, timeout_s=20)
            assert call.receive(timeout_s=20) == payload
        call.close_send()
        assert call.receive(timeout_s=10) is None


def test_abort_with_non_ascii_message(server):
    with open_bidi_stream(server.address, PATH, [("x-mode", "abort")]) as call:
        with pytest.raises(CallError) as info:
            call.receive(timeout_s=10)
    assert info.value.code == 16
    assert info.value.message == "jeton refusé ✗ (grpcio)"


def test_server_ends_ok(server):
    with open_bidi_stream(server.address, PATH, [("x-mode", "ok-now")]) as call:
        assert call.receive(timeout_s=10) is None
        assert call.done
        with pytest.raises(CallError, match="finished it with OK"):
            call.send(b"late")


def test_server_stop_mid_call(server):
    with open_bidi_stream(server.address, PATH) as call:
        call.send(b"hello")
        assert call.receive(timeout_s=10) == b"hello"
        start = time.monotonic()
        server.stop(0)
        with pytest.raises(CallError) as info:
            call.receive(timeout_s=5)
        assert info.value.code in (1, 14), info.value
        assert time.monotonic() - start < 3


def test_client_cancel_is_seen_by_the_server(server):
    with open_bidi_stream(server.address, PATH, [("x-mode", "wait-cancel")]) as call:
        call.send(b"hi")
        assert call.receive(timeout_s=10) == b"hi"
        blocked: list = []

        def receive() -> None:
            try:
                call.receive(timeout_s=10)
            except CallError as e:
                blocked.append(e)

        waiter = threading.Thread(target=receive)
        waiter.start()
        time.sleep(0.1)
        call.cancel()
        call.cancel()  # idempotent
        waiter.join(5)
        assert [e.code for e in blocked] == [1]
        with pytest.raises(CallError) as info:
            call.send(b"after cancel")
        assert info.value.code == 1
    assert server.servicer.cancel_seen.wait(5)


def test_message_over_max_receive_bytes(server):
    with open_bidi_stream(server.address, PATH, [("x-mode", "big")], max_receive_bytes=MiB) as call:
        with pytest.raises(CallError) as info:
            call.receive(timeout_s=10)
    assert info.value.code == 8
    assert "received message of 2097152 bytes is over max_receive_bytes 1048576" in str(info.value)


def test_message_over_max_send_bytes_sends_nothing(server):
    with open_bidi_stream(server.address, PATH, max_send_bytes=100) as call:
        with pytest.raises(CallError) as info:
            call.send(b"x" * 101)
        assert info.value.code == 8
        call.send(b"x" * 100)
        assert call.receive(timeout_s=10) == b"x" * 100


def test_nobody_listening():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    start = time.monotonic()
    with pytest.raises(CallError) as info:
        open_bidi_stream(address, PATH, connect_timeout_s=2)
    assert info.value.code == 14 and "cannot connect to 127.0.0.1:" in info.value.message
    assert time.monotonic() - start < 1


@pytest.mark.parametrize(
    "address, metadata, path",
    [
        ("localhost", [], PATH),
        ("::1:80", [], PATH),
        ("127.0.0.1:80", [("Authorization", "x")], PATH),
        ("127.0.0.1:80", [(":path", "x")], PATH),
        ("127.0.0.1:80", [("k", "caf\u00e9")], PATH),
        ("127.0.0.1:80", [("k", "a\nb")], PATH),
        ("127.0.0.1:80", [], "no-slash"),
    ],
)
def test_bad_arguments_are_refused_before_connecting(address, metadata, path):
    with pytest.raises(ValueError):
        open_bidi_stream(address, path, metadata)


def test_ipv6_literal_address(server):
    ipv6 = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=2))
    try:
        port = ipv6.add_insecure_port("[::1]:0")
    except RuntimeError:
        pytest.skip("no IPv6 loopback here")
    ipv6.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "stallwatch.v1.AgentService",
                {"Connect": grpc.stream_stream_rpc_method_handler(lambda it, ctx: iter(it))},
            )
        ]
    )
    ipv6.start()
    try:
        with open_bidi_stream(f"[::1]:{port}", PATH) as call:
            call.send(b"v6")
            assert call.receive(timeout_s=10) == b"v6"
    finally:
        ipv6.stop(0).wait(5)


def test_slow_consumer_stalls_the_server_instead_of_buffering(server):
    # 400 messages of 64 KiB (25 MiB) from the server; we read none for a while. We stop
    # reopening the window at max_receive_bytes (2 MiB here) queued, so the server stalls with
    # at most that plus one window (1 MiB) and grpcio's own buffers sent.
    options = {"max_receive_bytes": 2 * MiB}
    with open_bidi_stream(server.address, PATH, [("x-mode", "flood")], **options) as call:
        time.sleep(1.0)
        stalled_at = server.servicer.yielded
        assert 0 < stalled_at < 100, stalled_at
        for i in range(400):
            message = call.receive(timeout_s=10)
            assert message is not None and message[:6] == b"%06d" % i
        assert call.receive(timeout_s=10) is None
