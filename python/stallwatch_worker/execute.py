"""One Execute stream, the worker's side of the Spark UDF protocol (spec: udf-protocol.md).

engine: Init, PayloadChunk* (when chunking), DataRequest*, Finish; Cancel at any point
(also after Finish). worker: one InitResponse, DataResponse*, at most one ErrorResponse, then
exactly one terminator (FinishResponse or CancelResponse) carrying the session's metrics.

User code runs inline on the stream's grpcio thread: that is the thread a dump shows for the
session (the agent links it), and the thread an asynchronous exception must hit. The Inbox
reads the engine's messages beside it, so a Cancel reaches the UDF's flag while it runs.
"""

from __future__ import annotations

import itertools
import threading
import time
import traceback
from typing import Any, Callable, Iterator, Optional

from . import protocol as p
from .context import SessionCancelled, UdfContext
from .endings import StreamBroken, StreamEndings
from .inbox import Broken, End, Inbox, Interrupted, Message
from .payload import PayloadTooLarge, ProtocolViolation, assemble_payload
from .udfs import Udf, UdfSpecError, parse_udf

_ids = itertools.count(1)


class ExecuteSession(StreamEndings):
    def __init__(
        self,
        requests: Iterator[p.pb.UdfRequest],
        host: Any,
        rpc_active: Callable[[], bool] = lambda: True,
    ) -> None:
        self.id = f"py-{next(_ids)}"
        # grpcio may end the request iterator cleanly when the engine cancels the RPC.
        self._rpc_active = rpc_active
        self.host = host
        self.log = host.log.child(session=self.id)
        self.engine_cancel = threading.Event()
        self.outside_reason: Optional[str] = None
        extra = host.extra_cancel(self)
        self.ctx = UdfContext(extra)
        self.inbox = Inbox(
            requests,
            f"stallwatch-inbox-{self.id}",
            self._engine_cancel_read,
            self._broken,
            lambda err: self.cancel_from_outside(f"cancelled through Stallwatch: {err}"),
            extra,
        )
        self.udf: Optional[Udf] = None
        self.udf_name = ""
        self.task_context: dict[str, str] = {}
        self.metrics = p.pb.ExecutionMetrics()
        self.outcome = "cancelled"
        self.stream_broken = False
        self.thread = threading.current_thread()
        self._processing_from = 0
        self._finish_asked = False
        self._ended = False

    # Called from other threads.
    def _engine_cancel_read(self) -> None:
        self.engine_cancel.set()
        self.ctx.request_cancel("cancelled by the engine")

    def _broken(self) -> None:
        self.stream_broken = True
        self.engine_cancel.set()
        self.ctx.request_cancel("the stream broke")

    def _note_outside_cancel(self, detail: str = "") -> None:
        """A cancel we were not told about directly (the agent's flag or its async exception)."""
        if self.outside_reason is None:
            self.outside_reason = self.ctx.reason or detail or "cancelled through Stallwatch"

    def rpc_ended(self) -> None:
        """grpcio's callback when the RPC is over; before our ending, the transport broke."""
        if not self._ended:
            self._broken()
            self.inbox.interrupt()

    def cancel_from_outside(self, reason: str) -> None:
        self.outside_reason = reason
        self.ctx.request_cancel(reason)
        self.inbox.interrupt()

    def run(self) -> Iterator[p.pb.UdfResponse]:
        try:
            if (yield from self._init_phase()):
                yield from self._data_phase()
        except ProtocolViolation as violation:
            self.log.warn("protocol error from the engine", problem=str(violation))
            yield from self._abort(p.protocol_error(str(violation)), await_cancel=False)
        except _SessionOver:
            pass
        except StreamBroken as broken:
            self.outcome = "cancelled"
            self.log.info("the stream broke; session ended", problem=str(broken))
        except Exception as err:  # a bug of ours: the engine still gets the protocol's ending
            self.log.error("session failed inside the worker", err=repr(err))
            yield from self._abort(p.worker_error(f"internal worker error: {err}"), False)
        finally:
            # The spec treats a broken stream as a cancel, whatever ending the
            # session was writing when it saw the break (a UDF that noticed the
            # cancel first would otherwise count as failed).
            if self.stream_broken and self.outcome != "finished":
                self.outcome = "cancelled"
            self._ended = True
            self.inbox.close()
            if self.udf is not None:
                _quietly(self.udf.close)

    # Init ---------------------------------------------------------------------------------

    def _init_phase(self) -> Iterator[p.pb.UdfResponse]:
        started = time.monotonic_ns()
        first = self._take(self.host.init_wait_s)
        if not isinstance(first, Message):
            if first is None:
                yield from self._init_error(p.protocol_error("no Init within the deadline"))
            return False
        if first.kind != "init":
            got = "a message with no branch set" if first.kind == "empty" else first.kind
            yield from self._init_error(p.protocol_error(f"expected Init first, got {got}"))
            return False
        init = first.request.control.init
        self.udf_name = init.udf.name[:200]
        self.task_context = {k[:100]: v[:500] for k, v in list(init.task_context.items())[:32]}
        try:
            payload = assemble_payload(init, self._take_chunk, self.host.max_payload_bytes)
        except ProtocolViolation as violation:
            yield from self._init_error(p.protocol_error(str(violation)))
            return False
        except PayloadTooLarge as too_large:
            yield from self._init_failed(p.worker_error(str(too_large)))
            return False
        if init.data_format != p.ARROW:
            name = "UNSPECIFIED" if init.data_format == 0 else str(init.data_format)
            error = f"data_format {name} is not supported: this worker takes ARROW (as bytes)"
            yield from self._init_failed(p.worker_error(error))
            return False
        try:
            self.udf_name, self.udf = parse_udf(init.udf.format, payload, self.ctx)
        except UdfSpecError as bad:
            yield from self._init_failed(p.worker_error(str(bad)))
            return False
        udf = self.udf
        failure = yield from self._user_code(udf.init, during_init=True)
        if failure is not None:
            yield from self._init_failed(failure)
            return False
        self.metrics.init_wall_nanos = time.monotonic_ns() - started
        yield p.init_response()
        self._processing_from = time.monotonic_ns()
        return True

    def _take_chunk(self) -> Optional[p.pb.UdfRequest]:
        item = self._take(self.host.init_wait_s)
        if isinstance(item, Broken):
            raise StreamBroken(repr(item.error))
        if isinstance(item, Interrupted):
            raise ProtocolViolation("the session was cancelled while its payload was chunked")
        return item.request if isinstance(item, Message) else None

    def _init_error(self, error: p.pb.ExecutionError) -> Iterator[p.pb.UdfResponse]:
        """A protocol error during init: InitResponse{error}, then CancelResponse at once."""
        self.log.warn("protocol error from the engine", problem=p.describe_error(error))
        self.outcome = "failed"
        yield p.init_response(error)
        yield p.cancel_response(self.metrics)

    def _init_failed(self, error: p.pb.ExecutionError) -> Iterator[p.pb.UdfResponse]:
        """InitResponse{error}; the engine then cancels and the session ends with CancelResponse."""
        self.outcome = "failed"
        yield p.init_response(error)
        yield from self._await_engine_cancel()

    # Data ---------------------------------------------------------------------------------

    def _data_phase(self) -> Iterator[p.pb.UdfResponse]:
        assert self.udf is not None
        udf = self.udf
        while True:
            if self.outside_reason is not None:
                yield from self._cancelled_from_outside()
                return
            if self.engine_cancel.is_set():
                yield self._terminator("cancel")
                return
            item = self._take(None)
            if isinstance(item, Interrupted):
                self._note_outside_cancel()
                continue
            if (isinstance(item, End) or item is None) and not self._rpc_active():
                raise StreamBroken("the RPC ended")
            if isinstance(item, End) or item is None:
                raise ProtocolViolation("the engine closed its side before Finish or Cancel")
            if isinstance(item, Broken):
                raise StreamBroken(repr(item.error))
            if item.kind == "data":
                if self._finish_asked:
                    raise ProtocolViolation("DataRequest after Finish")
                if not (yield from self._batch(udf, item.request.data.data)):
                    return
            elif item.kind == "finish":
                yield from self._finish(udf)
                return
            elif item.kind == "cancel":
                yield self._terminator("cancel")
                return
            else:
                what = {"init": "a second Init", "payload": "PayloadChunk after InitResponse"}
                raise ProtocolViolation(what.get(item.kind, "a message with no branch set"))

    def _batch(self, udf: Udf, data: bytes) -> Iterator[p.pb.UdfResponse]:
        self.metrics.bytes_in += len(data)
        self.metrics.batches_in += 1
        self.host.registry.count_io(bytes_in=len(data))
        out: list[Optional[bytes]] = []
        failure = yield from self._user_code(lambda: out.append(udf.process(data)))
        if failure is not None:
            yield from self._abort(failure, await_cancel=True)
            return False
        if out and out[0] is not None:
            yield self._data(out[0])
        return True

    def _finish(self, udf: Udf) -> Iterator[p.pb.UdfResponse]:
        self._finish_asked = True
        out: list[Optional[bytes]] = []
        failure = yield from self._user_code(lambda: out.append(udf.finish()))
        if failure is not None:
            self.outcome = "failed"
            yield self._terminator("finish", error=failure)
            return
        # Finish then Cancel: a Cancel read before the FinishResponse goes out wins.
        if self.engine_cancel.is_set():
            yield self._terminator("cancel")
            return
        self.outcome = "finished"
        yield self._terminator("finish", data=out[0] if out else None)

    # User code ----------------------------------------------------------------------------

    def _user_code(
        self, call: Callable[[], Any], during_init: bool = False
    ) -> Iterator[p.pb.UdfResponse]:
        """Runs user code on this thread. Returns None when it completed, else the
        ExecutionError to report; a cancel during it ends the session here (raises Cancelled
        after sending what the protocol wants, so callers stop)."""
        wall, cpu = time.monotonic_ns(), time.thread_time_ns()
        try:
            call()
            return None
        except BaseException as err:
            if isinstance(err, SessionCancelled) or self.ctx.cancelled:
                if not self.engine_cancel.is_set():
                    self._note_outside_cancel(str(err))
                yield from self._ended_by_cancel(during_init)
                raise _SessionOver() from None
            if isinstance(err, UdfSpecError):
                return p.worker_error(str(err))
            text = "".join(traceback.format_exception(err))[-8000:]
            return p.user_error(str(err)[:4000], text, type(err).__name__)
        finally:  # measured before any ending is sent
            self.metrics.work_wall_nanos += time.monotonic_ns() - wall
            self.metrics.work_cpu_nanos += time.thread_time_ns() - cpu

    def _ended_by_cancel(self, during_init: bool) -> Iterator[p.pb.UdfResponse]:
        if self.outside_reason is not None:
            if during_init:
                yield p.init_response(p.worker_error(self._outside_message()))
                yield self._terminator("cancel")
            else:
                yield from self._cancelled_from_outside()
            return
        if self.stream_broken:
            raise StreamBroken("the stream broke while user code ran")
        if during_init:
            yield p.init_response(p.worker_error("cancelled by the engine during init"))
        yield self._terminator("cancel")


class _SessionOver(Exception):
    """The session already sent its ending from inside ``_user_code``."""


def _quietly(call: Callable[[], None]) -> None:
    try:
        call()
    except Exception:
        pass
