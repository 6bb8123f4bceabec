"""The client against @grpc/grpc-js on Node (a peer we did not write). Node's HTTP/2 (nghttp2)
codes headers with Huffman and the dynamic table, so this exercises the HPACK decoder for real.

grpc-js is found in a node_modules above this file (the repository root's), else in the folder
named by STALLWATCH_NODE_MODULES; without it (or without node) the tests are skipped."""

import os
import pathlib
import select
import shutil
import subprocess
import time
from typing import Iterator, Optional

import pytest

from .client import CallError, open_bidi_stream

PATH = "/stallwatch.v1.AgentService/Connect"
PEER = pathlib.Path(__file__).parent / "testing" / "grpcjs_echo_peer.js"
MiB = 1 << 20


def _grpc_js() -> Optional[pathlib.Path]:
    for folder in pathlib.Path(__file__).resolve().parents:
        candidate = folder / "node_modules" / "@grpc" / "grpc-js"
        if candidate.is_dir():
            return candidate
    configured = os.environ.get("STALLWATCH_NODE_MODULES")
    if configured and (pathlib.Path(configured) / "@grpc" / "grpc-js").is_dir():
        return pathlib.Path(configured) / "@grpc" / "grpc-js"
    return None


@pytest.fixture(scope="module")
def peer() -> Iterator[str]:
    grpc_js = _grpc_js()
    if grpc_js is None:
        pytest.skip("no node_modules/@grpc/grpc-js above the tests, nor STALLWATCH_NODE_MODULES")
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    process = subprocess.Popen(
        [node, str(PEER), str(grpc_js)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 15
        line = b""
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], deadline - time.monotonic())
            if not ready:
                break
            chunk = os.read(process.stdout.fileno(), 100)
            if not chunk:
                break
            line += chunk
        assert line.startswith(b"PORT "), f"grpc-js peer did not start: {line!r}"
        yield f"127.0.0.1:{int(line.split()[1])}"
    finally:
        process.kill()  # by pid: only the process this fixture started
        process.wait(5)


def test_echo_with_huffman_and_dynamic_table(peer):
    # Several calls, each its own connection; many messages on each.
    for round_ in range(3):
        with open_bidi_stream(peer, PATH, [("authorization", "Bearer js")]) as call:
            for i in range(100):
                call.send(b"round %d message %d" % (round_, i))
            call.close_send()
            for i in range(100):
                assert call.receive(timeout_s=10) == b"round %d message %d" % (round_, i)
            assert call.receive(timeout_s=10) is None


def test_big_messages(peer):
    with open_bidi_stream(peer, PATH) as call:
        for size in (MiB, 3 * MiB):
            payload = os.urandom(size)
            call.send(payload, timeout_s=20)
            assert call.receive(timeout_s=20) == payload
        call.close_send()
        assert call.receive(timeout_s=10) is None


def test_trailers_with_status_and_message(peer):
    with open_bidi_stream(peer, PATH, [("x-status", "9")]) as call:
        call.send(b"one")
        call.close_send()
        assert call.receive(timeout_s=10) == b"one"
        with pytest.raises(CallError) as info:
            call.receive(timeout_s=10)
    assert info.value.code == 9
    assert info.value.message == "état: refusé ✓ (grpc-js)"


def test_unknown_method(peer):
    with open_bidi_stream(peer, "/stallwatch.v1.AgentService/Nope") as call:
        with pytest.raises(CallError) as info:
            call.receive(timeout_s=10)
    assert info.value.code == 12, info.value


def test_keepalive_pings_are_answered_and_the_call_lives_on(peer):
    with open_bidi_stream(peer, PATH, keepalive_s=0.05, keepalive_timeout_s=1.0) as call:
        time.sleep(0.6)  # about ten keepalive PINGs, each answered
        assert not call.done
        call.send(b"still here")
        assert call.receive(timeout_s=10) == b"still here"
