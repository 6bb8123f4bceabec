"""The engine's messages on one Execute stream, read ahead by a daemon thread.

User code runs on the stream's own grpcio thread, so nothing would read the stream while it
runs. The reader reads at most one message beyond the one waiting here (never buffering
without bound), and reports a ``Cancel`` the moment it reads it: a Cancel behind the batch in
progress reaches the UDF's cancel flag while user code still runs.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Callable, Iterator, Optional, Union

from .protocol import kind_of, pb


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
    ) -> None:
        self._requests = requests
        self._on_cancel = on_cancel
        self._on_broken = on_broken
        self._cond = threading.Condition()
        self._items: collections.deque[Item] = collections.deque()
        self._closed = False
        self._interrupted = False
        self.waited_ns = 0
        self._thread = threading.Thread(target=self._read, name=name, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for request in self._requests:
                message = Message(request)
                if message.kind == "cancel":
                    self._on_cancel()
                if not self._push(message):
                    return
            self._push(End())
        except BaseException as err:  # grpc raises its RpcError when the RPC is cancelled
            self._on_broken()
            self._push(Broken(err))

    def _push(self, item: Item) -> bool:
        with self._cond:
            while self._items and not self._closed:
                self._cond.wait()
            if self._closed:
                return False
            self._items.append(item)
            self._cond.notify_all()
            return True

    def take(self, timeout: Optional[float] = None) -> Union[Item, Interrupted, None]:
        """The next item; ``Interrupted`` once ``interrupt`` was called; None after ``timeout``."""
        started = time.monotonic_ns()
        try:
            with self._cond:
                ok = self._cond.wait_for(lambda: self._items or self._interrupted, timeout)
                if self._items:
                    item = self._items.popleft()
                    self._cond.notify_all()
                    return item
                return Interrupted() if ok else None
        finally:
            self.waited_ns += time.monotonic_ns() - started

    def peek_now(self) -> Optional[Item]:
        """The item already waiting, without taking it or waiting for one."""
        with self._cond:
            return self._items[0] if self._items else None

    def interrupt(self) -> None:
        with self._cond:
            self._interrupted = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
