"""What user code sees of its session: a cancel flag it can poll and a wait that a cancel ends."""

from __future__ import annotations

import threading
from typing import Callable, Optional


class SessionCancelled(BaseException):
    """Raised by ``UdfContext.check`` once the session is cancelled. A BaseException, like
    KeyboardInterrupt, so that user code's ``except Exception`` does not swallow it."""


class UdfContext:
    """One per session. A cancel comes from the engine (in-band ``Cancel``), from a Manage
    shutdown, or from anything else given as ``extra_cancel`` (e.g. the agent's per-session flag);
    cooperative UDFs poll ``cancelled`` or call ``check`` / ``wait``."""

    def __init__(self, extra_cancel: Optional[Callable[[], bool]] = None) -> None:
        self._event = threading.Event()
        self._extra = extra_cancel
        self.reason = ""

    def request_cancel(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    @property
    def cancelled(self) -> bool:
        if self._event.is_set():
            return True
        return bool(self._extra and self._extra())

    def check(self) -> None:
        if self.cancelled:
            raise SessionCancelled(self.reason or "cancelled")

    def wait(self, seconds: float) -> bool:
        """Sleeps up to ``seconds``; True as soon as the session is cancelled."""
        if self._extra is None:
            return self._event.wait(seconds)
        # Another flag is polled too: in short steps, so its cancel is seen within 50 ms.
        remaining = seconds
        while remaining > 0:
            if self.cancelled:
                return True
            step = min(0.05, remaining)
            if self._event.wait(step):
                return True
            remaining -= step
        return self.cancelled
