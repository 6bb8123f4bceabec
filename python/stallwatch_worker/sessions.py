"""The worker's live Execute sessions and its counters: what Manage reports and shutdown waits on."""

from __future__ import annotations

import resource
import threading
import time
from typing import Protocol


class Cancellable(Protocol):
    id: str

    def cancel_from_outside(self, reason: str) -> None:
        ...


class SessionRegistry:
    """Thread-safe: sessions run on grpcio's threads, Manage on another."""

    def __init__(self, max_sessions: int) -> None:
        self.max_sessions = max_sessions
        self.started_at = time.monotonic()
        self._cond = threading.Condition()
        self._live: dict[str, Cancellable] = {}
        self.counts = {"started": 0, "finished": 0, "cancelled": 0, "failed": 0}
        self.bytes_in = self.bytes_out = self.batches_in = self.batches_out = 0

    def add(self, session: Cancellable) -> bool:
        """False when the worker already runs ``max_sessions`` (Manage keeps its threads)."""
        with self._cond:
            if len(self._live) >= self.max_sessions:
                return False
            self._live[session.id] = session
            self.counts["started"] += 1
            return True

    def remove(self, session: Cancellable, outcome: str) -> None:
        with self._cond:
            if self._live.pop(session.id, None) is not None:
                self.counts[outcome] += 1
            self._cond.notify_all()

    def count_io(self, bytes_in: int = 0, bytes_out: int = 0) -> None:
        with self._cond:
            self.bytes_in += bytes_in
            self.batches_in += 1 if bytes_in else 0
            self.bytes_out += bytes_out
            self.batches_out += 1 if bytes_out else 0

    @property
    def active(self) -> int:
        with self._cond:
            return len(self._live)

    def live_ids(self) -> list[str]:
        with self._cond:
            return list(self._live)

    def cancel_all(self, reason: str) -> None:
        with self._cond:
            live = list(self._live.values())
        for session in live:
            session.cancel_from_outside(reason)

    def wait_idle(self, timeout: float | None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: not self._live, timeout)

    def heartbeat_metrics(self) -> dict[str, str]:
        """``HeartbeatResponse.metrics``: decimal strings. Rows are absent: batches are opaque."""
        with self._cond:
            figures = {
                "uptime_ms": int((time.monotonic() - self.started_at) * 1000),
                "active_sessions": len(self._live),
                "sessions_started": self.counts["started"],
                "sessions_finished": self.counts["finished"],
                "sessions_cancelled": self.counts["cancelled"],
                "sessions_failed": self.counts["failed"],
                "bytes_in": self.bytes_in,
                "bytes_out": self.bytes_out,
                "batches_in": self.batches_in,
                "batches_out": self.batches_out,
            }
        figures["rss_bytes"] = _rss_bytes()
        figures["threads"] = threading.active_count()
        return {name: str(value) for name, value in figures.items()}


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0
