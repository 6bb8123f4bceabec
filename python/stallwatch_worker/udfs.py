"""The demo UDF catalogue: ``UdfPayload.format = "stallwatch.demo.v1"`` and a JSON payload
``{"fn": NAME, ...parameters}``. Batches are opaque bytes (no pyarrow on Debian), so these
UDFs echo, count or ignore them; each one shows a way real user code behaves or gets stuck."""

from __future__ import annotations

import builtins
import json
import math
import re
import socket
import time
from typing import Any, Callable, Optional

from .context import UdfContext

FORMAT = "stallwatch.demo.v1"


class UdfSpecError(Exception):
    """The payload names no UDF this worker has (an init error naming what is supported)."""


class Udf:
    """User code for one session. ``process`` returns the DataResponse bytes, or None for none."""

    def __init__(self, ctx: UdfContext, params: dict[str, Any]) -> None:
        self.ctx = ctx
        self.params = params

    def init(self) -> None:
        pass

    def process(self, data: bytes) -> Optional[bytes]:
        return data

    def finish(self) -> Optional[bytes]:
        return None

    def close(self) -> None:
        pass


class Echo(Udf):
    """Returns every batch unchanged."""


class Sink(Udf):
    """Consumes input, emits nothing."""

    def process(self, data: bytes) -> Optional[bytes]:
        return None


class Count(Udf):
    """Emits nothing per batch; Finish carries ``{"batches": N, "bytes": M}`` as JSON."""

    batches = 0
    size = 0

    def process(self, data: bytes) -> Optional[bytes]:
        self.batches += 1
        self.size += len(data)
        return None

    def finish(self) -> Optional[bytes]:
        return json.dumps({"batches": self.batches, "bytes": self.size}).encode()


class Sleep(Udf):
    """Sleeps ``msPerBatch`` (default 200) per batch, then echoes; a cancel ends the sleep."""

    def init(self) -> None:
        self.seconds = _number(self.params, "msPerBatch", 200) / 1000

    def process(self, data: bytes) -> Optional[bytes]:
        self.ctx.wait(self.seconds)
        self.ctx.check()
        return data


class Hang(Udf):
    """Blocks in ``recv_into`` on a real socket whose peer never writes, as the Airflow
    scheduler in the py-spy story did: the GIL is released, the thread never returns, and
    no flag is ever looked at. Only ending the process ends it."""

    def init(self) -> None:
        self._ours, self._peer = socket.socketpair()

    def process(self, data: bytes) -> Optional[bytes]:
        buffer = bytearray(65536)
        self._ours.recv_into(buffer)  # the peer never writes: this is where the session hangs
        return data

    def close(self) -> None:
        self._ours.close()
        self._peer.close()


class Spin(Udf):
    """Burns CPU in pure Python, ``msPerBatch`` per batch (default: until cancelled). With
    ``"cooperative": false`` it never polls the cancel flag: only an asynchronous exception
    (the agent's second step) stops it."""

    def init(self) -> None:
        self.budget = _number(self.params, "msPerBatch", math.inf) / 1000
        self.cooperative = self.params.get("cooperative", True) is not False

    def process(self, data: bytes) -> Optional[bytes]:
        deadline = time.monotonic() + self.budget
        total = 0
        while time.monotonic() < deadline:
            for i in range(10_000):
                total += i * i
            if self.cooperative:
                self.ctx.check()
        return data


class HoldGil(Udf):
    """Holds the GIL in C for about ``seconds`` (default 3600): one catastrophic backtracking
    ``re`` match, calibrated here. No Python thread runs meanwhile, this worker's Manage and
    any agent included; a signal is handled only once the match ends."""

    PATTERN = re.compile(r"(a+)+$")

    def init(self) -> None:
        self.length = _length_for(_number(self.params, "seconds", 3600))

    def process(self, data: bytes) -> Optional[bytes]:
        self.PATTERN.match("a" * self.length + "b")  # holds the GIL until the match gives up
        return data


class Raise(Udf):
    """Raises ``errorClass`` (default ValueError) with ``message`` on the batch after
    ``afterBatches`` (default 0), or in init with ``"inInit": true``."""

    seen = 0

    def init(self) -> None:
        self.after = _number(self.params, "afterBatches", 0)
        if self.params.get("inInit") is True:
            self._raise()

    def process(self, data: bytes) -> Optional[bytes]:
        if self.seen >= self.after:
            self._raise()
        self.seen += 1
        return data

    def _raise(self) -> None:
        name = str(self.params.get("errorClass", "ValueError"))[:100]
        message = str(self.params.get("message", "raised by the demo UDF"))[:1000]
        builtin = getattr(builtins, name, None)
        if isinstance(builtin, type) and issubclass(builtin, Exception):
            raise builtin(message)
        raise type(name, (Exception,), {})(message)


CATALOGUE: dict[str, Callable[[UdfContext, dict[str, Any]], Udf]] = {
    "echo": Echo,
    "count": Count,
    "sink": Sink,
    "sleep": Sleep,
    "hang": Hang,
    "spin": Spin,
    "gil": HoldGil,
    "raise": Raise,
}
# The TypeScript worker's names for the same behaviour.
ALIASES = {"slow": "sleep", "fail": "raise"}


def parse_udf(fmt: str, payload: bytes, ctx: UdfContext) -> tuple[str, Udf]:
    """The UDF a payload names, ready for ``init``; UdfSpecError says what is wrong."""
    if fmt != FORMAT:
        raise UdfSpecError(f'UDF format "{fmt[:100]}" is not supported: this worker runs {FORMAT}')
    try:
        spec = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise UdfSpecError(f"the {FORMAT} payload is not JSON: {err}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("fn"), str):
        raise UdfSpecError(f'the {FORMAT} payload needs an "fn", e.g. {{"fn":"echo"}}')
    name = ALIASES.get(spec["fn"], spec["fn"])
    make = CATALOGUE.get(name)
    if make is None:
        known = ", ".join(sorted(CATALOGUE))
        raise UdfSpecError(f'unknown fn "{spec["fn"][:100]}": this worker has {known}')
    return name, make(ctx, spec)


def _number(params: dict[str, Any], key: str, default: float) -> float:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise UdfSpecError(f'"{key}" must be a number >= 0, got {json.dumps(value)[:100]}')
    return float(value)


_calibration: list[float] = []


def _length_for(seconds: float) -> int:
    """The subject length whose match takes about ``seconds``: each character doubles it."""
    if not _calibration:
        started = time.perf_counter()
        HoldGil.PATTERN.match("a" * 16 + "b")
        _calibration.append(max(time.perf_counter() - started, 1e-4))
    extra = math.log2(max(seconds, 1e-3) / _calibration[0])
    return 16 + max(0, min(64, math.ceil(extra)))
