"""How an Execute stream ends (spec: udf-protocol.md): at most one ErrorResponse, then exactly
one terminator carrying the session's measured ExecutionMetrics."""

from __future__ import annotations

import time
from typing import Any, Iterator, Optional

from . import protocol as p
from .inbox import Broken, End, Inbox, Interrupted


class StreamBroken(Exception):
    """The transport broke: the session ends as a cancel and sends nothing more."""


class StreamEndings:
    """The endings every phase of ExecuteSession shares; it sets these fields."""

    host: Any
    log: Any
    inbox: Inbox
    metrics: p.pb.ExecutionMetrics
    outcome: str
    outside_reason: Optional[str]
    engine_cancel: Any
    _processing_from: int

    def _outside_message(self) -> str:
        return f"session cancelled from outside the stream: {self.outside_reason}"

    def _cancelled_from_outside(self) -> Iterator[p.pb.UdfResponse]:
        yield from self._abort(p.worker_error(self._outside_message()), await_cancel=False)
        self.outcome = "cancelled"

    def _abort(self, error: p.pb.ExecutionError, await_cancel: bool) -> Iterator[p.pb.UdfResponse]:
        """One ErrorResponse, then CancelResponse at once or once the engine's Cancel came."""
        self.outcome = "cancelled" if error.WhichOneof("kind") == "worker" else "failed"
        yield p.error_response(error)
        if await_cancel:
            yield from self._await_engine_cancel()
        else:
            yield self._terminator("cancel", counts_as_cancel=False)

    def _await_engine_cancel(self) -> Iterator[p.pb.UdfResponse]:
        """After an error the engine sends Cancel (after Finish if it sent one). Bounded."""
        deadline = time.monotonic() + self.host.cancel_wait_s
        while not self.engine_cancel.is_set():
            item = self._take(max(0.0, deadline - time.monotonic()))
            if item is None:
                self.log.warn("no Cancel from the engine after an error; ending the session")
                break
            if isinstance(item, Broken):
                raise StreamBroken(repr(item.error))
            if isinstance(item, (End, Interrupted)) or item.kind == "cancel":
                break
            # Data or Finish already on its way before our error reached the engine: ignored.
        yield self._terminator("cancel", counts_as_cancel=False)

    def _terminator(
        self, which: str, data: Optional[bytes] = None, error=None, counts_as_cancel=True
    ):
        m = self.metrics
        if self._processing_from:
            m.processing_wall_nanos = time.monotonic_ns() - self._processing_from
        m.receive_wall_nanos = self.inbox.waited_ns
        if which == "cancel":
            if counts_as_cancel and self.outcome != "failed":
                self.outcome = "cancelled"
            return p.cancel_response(m)
        if data is not None:
            self._count_out(data)
        return p.finish_response(m, data=data, error=error)

    def _data(self, data: bytes) -> p.pb.UdfResponse:
        self._count_out(data)
        return p.data_response(data)

    def _count_out(self, data: bytes) -> None:
        self.metrics.bytes_out += len(data)
        self.metrics.batches_out += 1
        self.host.registry.count_io(bytes_out=len(data))

    def _take(self, timeout: Optional[float]):
        return self.inbox.take(timeout)
