"""Test helpers: the worker's service on a real port in this process, and the engine's end of
an Execute stream driven message by message (grpcio as the client, every call with a deadline)."""

from __future__ import annotations

import io
import json
import queue
from typing import Any, Iterator, Optional

import grpc

from . import protocol as p
from .log import JsonLog
from .server import UdfWorkerService, WorkerHost, build_server
from .sessions import SessionRegistry

CALL_DEADLINE_S = 20.0


class LocalWorker:
    """The service on 127.0.0.1:0, started; ``close()`` stops it."""

    def __init__(self, max_sessions: int = 8, **host_options: Any) -> None:
        self.lines: list[str] = []
        log = JsonLog(_Lines(self.lines))
        self.registry = SessionRegistry(max_sessions)
        self.host = WorkerHost(log=log, registry=self.registry, **host_options)
        self.settled = False
        self.service = UdfWorkerService(self.host, self._settled)
        self.server = build_server(self.host, self.service)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = p.service.UdfWorkerStub(self.channel)

    def _settled(self) -> None:
        self.settled = True

    def manage(self, **branch: Any) -> p.pb.WorkerResponse:
        return self.stub.Manage(p.pb.WorkerRequest(**branch), timeout=CALL_DEADLINE_S)

    def execute(self) -> "EngineStream":
        return EngineStream(self.stub)

    def close(self) -> None:
        self.registry.cancel_all("test over")
        self.channel.close()
        self.server.stop(0).wait(5)


class _Lines(io.StringIO):
    """Keeps each line written, in a list (JsonLog writes one line per call)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def write(self, text: str) -> int:
        self.lines.append(text)
        return len(text)

    def flush(self) -> None:
        pass


class EngineStream:
    """One Execute call: ``send`` requests, ``next`` responses (None at the stream's end)."""

    def __init__(self, stub: Any) -> None:
        self._outbox: queue.Queue[Optional[p.pb.UdfRequest]] = queue.Queue()
        self.call = stub.Execute(self._requests(), timeout=CALL_DEADLINE_S)

    def _requests(self) -> Iterator[p.pb.UdfRequest]:
        while True:
            item = self._outbox.get(timeout=CALL_DEADLINE_S)
            if item is None:
                return
            yield item

    def send(self, request: p.pb.UdfRequest) -> "EngineStream":
        self._outbox.put(request)
        return self

    def end(self) -> None:
        self._outbox.put(None)

    def next(self) -> Optional[p.pb.UdfResponse]:
        try:
            return next(self.call)
        except StopIteration:
            return None

    def next_name(self) -> str:
        return describe(self.next())


def describe(response: Optional[p.pb.UdfResponse]) -> str:
    """A short name: init, init-error:KIND, data, error:KIND, finish, finish-error, cancel, end."""
    if response is None:
        return "end"
    if response.WhichOneof("response") == "data":
        return "data"
    control = response.control
    which = control.WhichOneof("control")
    if which == "init":
        kind = control.init.error.WhichOneof("kind")
        return f"init-error:{kind}" if control.init.HasField("error") else "init"
    if which == "error":
        return f"error:{control.error.error.WhichOneof('kind')}"
    if which == "finish":
        return "finish-error" if control.finish.HasField("error") else "finish"
    return which or "empty"


def init(fn: str, fmt: str = "stallwatch.demo.v1", **params: Any) -> p.pb.UdfRequest:
    payload = json.dumps({"fn": fn, **params}).encode()
    udf = p.pb.UdfPayload(format=fmt, payload=payload, name=fn)
    message = p.pb.Init(protocol_version=1, data_format=p.ARROW, udf=udf)
    message.task_context["stage"] = "1"
    return p.pb.UdfRequest(control=p.pb.UdfControlRequest(init=message))


def data(payload: bytes = b"batch") -> p.pb.UdfRequest:
    return p.pb.UdfRequest(data=p.pb.DataRequest(data=payload))


def finish() -> p.pb.UdfRequest:
    return p.pb.UdfRequest(control=p.pb.UdfControlRequest(finish=p.pb.Finish()))


def cancel(reason: str = "engine cancel") -> p.pb.UdfRequest:
    return p.pb.UdfRequest(control=p.pb.UdfControlRequest(cancel=p.pb.Cancel(reason=reason)))


def chunk(payload: bytes, last: bool) -> p.pb.UdfRequest:
    chunk = p.pb.PayloadChunk(data=payload, last=last)
    return p.pb.UdfRequest(control=p.pb.UdfControlRequest(payload=chunk))
