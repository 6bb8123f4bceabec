"""After every h2grpc test, the client's reader thread must be gone: no call leaks a thread."""

import threading
import time

import pytest

READER = "stallwatch-agent-h2-reader"


def readers_alive() -> list:
    return [t for t in threading.enumerate() if t.name == READER and t.is_alive()]


def wait_readers_gone(timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while readers_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not readers_alive(), f"reader threads still running: {readers_alive()}"


@pytest.fixture(autouse=True)
def no_reader_left():
    yield
    wait_readers_gone()
