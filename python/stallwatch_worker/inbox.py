"""The engine's messages on one Execute stream, read by a daemon thread when the session asks.

grpcio's request iterator blocks without a deadline, so the session never calls it itself: a
reader thread does, and the session waits here, where a Manage shutdown, an outside cancel or
a broken stream can wake it. The reader reads only when the session wants the next message,
never ahead: an interceptor that follows the stream (the agent's) then sees each message when
the session acts on it. The price, as in the spec's "known weakness": an in-band Cancel behind
a running batch is read when that batch ends; outside cancels reach user code at once.
"""

from __future__ import annotations

import collections
import threading
import time

import grpc
from typing import Callable, Iterator, Optional, Union

from .protocol import kind_of, pb


POLL_S = 0.1


class Message:
    def __init__(self, request: pb.UdfRequest) -> None:
        self.request = request
        self.kind = kind_of(request)


class End:
    """The engine half-closed its side."""


class Broken:
    """The transport broke (the engine cancelled the RPC, or the connection went away)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class Interrupted:
    """Someone outside the stream (a Manage shutdown, an operator) cancelled the session."""


Item = Union[Message, End, Broken]


class Inbox:
    def __init__(
        self,
        requests: Iterator[pb.UdfRequest],
        name: str,
        on_cancel: Callable[[], None],
        on_broken: Callable[[], None],
        on_refused: Callable[[BaseException], None],
        cancelled: Optional[Callable[[], bool]] = None,
    ) -> None:
        self._requests = requests
        self._on_cancel = on_cancel
        self._on_broken = on_broken
        self._on_refused = on_refused
        self._wanted = False
        # A cancel flag nobody can wake us for (the agent's): looked at every POLL_S while waiting.
        self._cancelled = cancelled
        self._cond = threading.Condition()
        self._items: collections.deque[Item] = collections.deque()
        self._closed = False
        self._interrupted = False
        self.waited_ns = 0
        self._thread = threading.Thread(target=self._read, name=name, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while self._await_wanted():
            try:
                message = Message(next(self._requests))
            except StopIteration:
                self._push(End())
                return
            except grpc.RpcError as err:  # the RPC was cancelled or its connection went away
                self._on_broken()
                self._push(Broken(err))
                return
            except BaseException as err:
                # Not the transport: whatever wraps the stream refused the next message (the
                # agent's interceptor raises its SessionCancelled). The stream is over for us.
                self._on_refused(err)
                return
            if message.kind == "cancel":
                self._on_cancel()
            self._push(message)

    def _await_wanted(self) -> bool:
        with self._cond:
            self._cond.wait_for(lambda: self._wanted or self._closed)
            self._wanted = False
            return not self._closed

    def _push(self, item: Item) -> None:
        with self._cond:
            self._items.append(item)
            self._cond.notify_all()

    def take(self, timeout: Optional[float] = None) -> Union[Item, Interrupted, None]:
        """The next item; ``Interrupted`` once ``interrupt`` was called; None after ``timeout``."""
        started = time.monotonic_ns()
        try:
            with self._cond:
                if not self._items:
                    self._wanted = True
                    self._cond.notify_all()
                ok = self._wait(timeout)
                if self._items:
                    return self._items.popleft()
                return Interrupted() if ok else None
        finally:
            self.waited_ns += time.monotonic_ns() - started

    def _wait(self, timeout: Optional[float]) -> bool:
        def ready() -> bool:
            return bool(self._items) or self._interrupted

        if self._cancelled is None:
            return self._cond.wait_for(ready, timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not ready():
            if self._cancelled():
                self._interrupted = True
                return True
            left = POLL_S if deadline is None else min(POLL_S, deadline - time.monotonic())
            if left <= 0:
                return False
            self._cond.wait(left)
        return True

    def interrupt(self) -> None:
        with self._cond:
            self._interrupted = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
