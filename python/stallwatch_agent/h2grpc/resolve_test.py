"""Name resolution is bounded: a resolver that never answers costs the
caller its timeout and one thread, never more."""

import socket
import threading
import time

import pytest

from . import resolve as r
from .client import UNAVAILABLE, CallError, open_bidi_stream


def test_literals_and_names_resolve():
    assert r.resolve("127.0.0.1", 80, 1.0)[0] == (socket.AF_INET, ("127.0.0.1", 80))
    assert r.resolve("::1", 80, 1.0)[0][0] == socket.AF_INET6
    assert ("127.0.0.1", 80) in [addr[:2] for _, addr in r.resolve("localhost", 80, 5.0)]


def test_a_resolver_that_never_answers_costs_the_timeout_and_one_thread(monkeypatch):
    # The one part faked: a DNS server that never answers cannot run here.
    release = threading.Event()
    real = socket.getaddrinfo

    def stuck(host, *args, **kwargs):
        if host == "never.example":
            release.wait(30)
        return real("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    started = time.monotonic()
    with pytest.raises(CallError) as err:
        open_bidi_stream("never.example:1", "/x.Y/Z", connect_timeout_s=0.3)
    assert err.value.code == UNAVAILABLE
    assert "took longer than 0.3 s" in err.value.message
    assert time.monotonic() - started < 2.0
    # Still stuck: a retry fails at once instead of starting a second thread.
    with pytest.raises(r.ResolveError, match="still stuck"):
        r.resolve("never.example", 1, 0.3)
    stuck_threads = [t for t in threading.enumerate() if t.name == "stallwatch-agent-h2-resolve"]
    assert len(stuck_threads) == 1
    release.set()
    stuck_threads[0].join(5)
    assert r.resolve("never.example", 1, 1.0)  # the resolver answers again: so do we


def test_a_name_that_does_not_exist_says_so():
    with pytest.raises(r.ResolveError, match="resolving 'no-such-host.invalid'"):
        r.resolve("no-such-host.invalid", 1, 10.0)
