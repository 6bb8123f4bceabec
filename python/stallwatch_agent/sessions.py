"""Live sessions (one per UdfWorker.Execute stream) and the recently finished ones.

Everything here is called from the worker's own threads (grpcio's handler
threads, UDF threads) and read by the agent's threads, so every mutation is
under one lock and every read copies. Nothing here blocks or raises into the
worker: a session is a few counters and a state.
"""

import collections
import itertools
import os
import threading
import time

from stallwatch_proto import agent_pb2

State = agent_pb2.SessionState
Outcome = agent_pb2.SessionOutcome

#: Finished sessions kept for status reports (the gateway asks for at most 100).
MAX_FINISHED = 100
#: task_context entries and characters kept per session (the gateway caps at 64 / 4096).
MAX_CONTEXT_ENTRIES = 64
MAX_TEXT = 4096

_ids = itertools.count(1)
# Which session runs on which thread, whatever registry it belongs to: what
# stallwatch_agent.cancelled() asks from UDF code.
_on_thread: dict = {}
_on_thread_lock = threading.Lock()


def session_on_thread(ident):
    with _on_thread_lock:
        return _on_thread.get(ident)


def _bind(session, old, new):
    with _on_thread_lock:
        if old is not None and _on_thread.get(old.ident) is session:
            del _on_thread[old.ident]
        if new is not None and new.ident is not None:
            _on_thread[new.ident] = session


_prefix = f"{os.getpid():x}"


def now_ms():
    return int(time.time() * 1000)


def _clip(text):
    text = str(text)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


class SessionCancelled(BaseException):
    """Raised in a session's code when Stallwatch cancels it.

    A BaseException, like asyncio.CancelledError, so that UDF code catching
    `Exception` does not swallow the cancel by accident.
    """


class Session:
    """One session's live state. Its methods are the explicit API for workers
    that do not run UDFs on grpcio's handler threads (see track_session)."""

    def __init__(self, registry, udf_name="", udf_format="", task_context=None):
        self._registry = registry
        self._lock = registry._lock
        self.session_id = f"py-{_prefix}-{next(_ids)}"
        self.udf_name = _clip(udf_name)
        self.udf_format = _clip(udf_format)
        self.task_context = {}
        self.set_task_context(task_context or {})
        self.started_at_ms = now_ms()
        self.state = State.SESSION_STATE_INITIALIZING
        self.state_entered_at_ms = self.started_at_ms
        self.counters = dict.fromkeys(
            ("rows_in", "rows_out", "batches_in", "batches_out", "bytes_in", "bytes_out"), 0
        )
        self.last_progress_at_ms = 0
        self.thread = threading.current_thread()
        _bind(self, None, self.thread)
        self.cancel_event = threading.Event()
        self.cancel_reason = ""
        #: Set once cancel raised SessionCancelled in the thread; cleared on end.
        self.async_exc_sent = False
        #: True while the thread is outside the session's code (the interceptor sends a response).
        self.yielding = False
        self.ended = threading.Event()

    # The explicit API ---------------------------------------------------------

    def set_task_context(self, task_context):
        with self._lock:
            items = list(task_context.items())[:MAX_CONTEXT_ENTRIES]
            self.task_context = {_clip(k): _clip(v) for k, v in items}

    def set_udf(self, udf_name, udf_format=""):
        with self._lock:
            self.udf_name = _clip(udf_name)
            self.udf_format = _clip(udf_format)
        self._registry._changed()

    def enter(self, state):
        """Moves to a SessionState (CANCELLING sticks until the session ends)."""
        with self._lock:
            if self.state == state or self.state == State.SESSION_STATE_CANCELLING:
                return
            self.state = state
            self.state_entered_at_ms = now_ms()

    def progress(self, **counts):
        """Adds to the counters: rows_in=, rows_out=, batches_in=, ... bytes_out=."""
        with self._lock:
            moved = False
            for name, n in counts.items():
                if name not in self.counters:
                    raise TypeError(f"unknown progress counter {name!r}")
                if n:
                    self.counters[name] += int(n)
                    moved = True
            if moved:
                self.last_progress_at_ms = now_ms()

    def bind_thread(self, thread=None):
        """Names the thread running this session's user code (default: the caller)."""
        with self._lock:
            old, self.thread = self.thread, thread or threading.current_thread()
            _bind(self, old, self.thread)

    @property
    def cancelled(self):
        return self.cancel_event.is_set()

    def check_cancelled(self):
        """Raises SessionCancelled when Stallwatch asked to cancel this session."""
        if self.cancel_event.is_set():
            raise SessionCancelled(self.cancel_reason or "cancelled")

    def end(self, outcome=None, error_message="", metrics=None):
        """Ends the session once; later calls do nothing."""
        from . import cancel  # the async-exception guard lives with the cancel code
        from .contained import contained

        with self._lock:
            if self.ended.is_set():
                return
            if outcome is None:
                cancelled = self.cancel_event.is_set()
                outcome = (
                    Outcome.SESSION_OUTCOME_CANCELLED
                    if cancelled
                    else Outcome.SESSION_OUTCOME_FINISHED
                )
            contained(
                "clear a pending async exception", lambda: cancel.clear_pending_async_exc(self)
            )
            self.ended.set()
            _bind(self, self.thread, None)
            self._registry._finish(self, outcome, _clip(error_message), metrics)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, _tb):
        if kind is None:
            self.end()
        elif issubclass(kind, SessionCancelled):
            self.end(Outcome.SESSION_OUTCOME_CANCELLED, str(value))
        else:
            self.end(Outcome.SESSION_OUTCOME_FAILED, f"{kind.__name__}: {value}")
        return False

    # For the agent -------------------------------------------------------------

    def to_proto(self):
        with self._lock:
            c = self.counters
            return agent_pb2.Session(
                session_id=self.session_id,
                state=self.state,
                state_entered_at_ms=self.state_entered_at_ms,
                progress=agent_pb2.Progress(
                    last_progress_at_ms=self.last_progress_at_ms or self.started_at_ms, **c
                ),
                udf_name=self.udf_name,
                udf_format=self.udf_format,
                task_context=self.task_context,
                started_at_ms=self.started_at_ms,
                thread_id=thread_key(self.thread),
            )


def thread_key(thread):
    """How a thread is named in ThreadDump.thread_id: its ident, as sys._current_frames has it."""
    return str(thread.ident) if thread is not None and thread.ident is not None else ""


class SessionRegistry:
    def __init__(self):
        # Re-entrant: Session methods take it and some call into the registry.
        self._lock = threading.RLock()
        self._live = {}
        self._finished: collections.deque = collections.deque(maxlen=MAX_FINISHED)
        #: Called (outside the lock) when a session opens or is named: the agent
        #: tells its helper at once, so a GIL taken right after is not blind.
        self.on_change = None

    def _changed(self):
        hook = self.on_change
        if hook is not None:
            from .contained import contained

            contained("push sessions to the helper", hook)

    def open(self, udf_name="", udf_format="", task_context=None):
        session = Session(self, udf_name, udf_format, task_context)
        with self._lock:
            self._live[session.session_id] = session
        self._changed()
        return session

    def get(self, session_id):
        with self._lock:
            return self._live.get(session_id)

    def was_finished(self, session_id):
        with self._lock:
            return any(f.session_id == session_id for f in self._finished)

    def live(self):
        with self._lock:
            return list(self._live.values())

    def sessions(self):
        return [s.to_proto() for s in self.live()]

    def finished(self, limit):
        with self._lock:
            return list(self._finished)[-limit:][::-1] if limit > 0 else []

    def _finish(self, session, outcome, error_message, metrics):
        with self._lock:
            self._live.pop(session.session_id, None)
            done = agent_pb2.FinishedSession(
                session_id=session.session_id,
                udf_name=session.udf_name,
                outcome=outcome,
                started_at_ms=session.started_at_ms,
                ended_at_ms=now_ms(),
                error_message=error_message,
                task_context=session.task_context,
            )
            if metrics is not None:
                done.metrics.CopyFrom(metrics)
            self._finished.append(done)


#: The process's registry: the interceptor, the explicit API and the agent share it.
REGISTRY = SessionRegistry()
