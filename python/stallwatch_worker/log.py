"""JSON log lines on stdout, shaped like the Node side's pino lines (``level``, ``time``,
``msg`` and fields), so the demo relays them and tests read the ``listening`` line the same way."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from typing import Any, TextIO

LEVELS = {"debug": 20, "info": 30, "warn": 40, "error": 50}


class JsonLog:
    def __init__(self, out: TextIO = sys.stdout, level: str = "info", **base: Any) -> None:
        self._out = out
        self._min = LEVELS.get(level, 30)
        self._lock = threading.Lock()
        self._base: dict[str, Any] = {"pid": os.getpid(), "hostname": socket.gethostname(), **base}

    def child(self, **fields: Any) -> "JsonLog":
        log = JsonLog(self._out, "info", **{**self._base, **fields})
        log._min = self._min
        log._lock = self._lock
        return log

    def _line(self, level: str, msg: str, fields: dict[str, Any]) -> str:
        line: dict[str, Any] = {
            "level": LEVELS[level],
            "time": int(time.time() * 1000),
            **self._base,
            **fields,
        }
        line["msg"] = msg
        return json.dumps(line, default=str)

    def write_from_signal_handler(self, level: str, msg: str, **fields: Any) -> None:
        """One line with one os.write, taking no lock: a signal handler runs on the main thread
        between two bytecodes, possibly inside write() below (its lock held) or inside itself
        (a second signal), where taking the lock would deadlock. Lines of up to PIPE_BUF bytes
        reach a pipe whole, and the other threads write theirs whole too (write() flushes)."""
        if LEVELS[level] < self._min:
            return
        try:
            os.write(self._out.fileno(), (self._line(level, msg, fields) + "\n").encode())
        except (OSError, ValueError):
            pass  # stdout gone: nothing left to tell

    def write(self, level: str, msg: str, **fields: Any) -> None:
        if LEVELS[level] < self._min:
            return
        text = self._line(level, msg, fields)
        with self._lock:
            try:
                self._out.write(text + "\n")
                self._out.flush()
            except (OSError, ValueError):
                pass  # stdout gone (the parent closed the pipe): nothing left to tell

    def debug(self, msg: str, **fields: Any) -> None:
        self.write("debug", msg, **fields)

    def info(self, msg: str, **fields: Any) -> None:
        self.write("info", msg, **fields)

    def warn(self, msg: str, **fields: Any) -> None:
        self.write("warn", msg, **fields)

    def error(self, msg: str, **fields: Any) -> None:
        self.write("error", msg, **fields)
