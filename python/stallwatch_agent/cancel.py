"""Cancelling a session, honestly: the flag, then an async exception, then the truth.

1. The session's cancel flag is set (`stallwatch_agent.cancelled()` turns
   true, `check_cancelled()` raises SessionCancelled). Code that looks
   yields within the grace: CANCELLED_COOPERATIVELY.
2. Otherwise SessionCancelled is raised in the session's thread with
   PyThreadState_SetAsyncExc. CPython delivers it at the thread's next
   bytecode boundary, so a thread running Python code ends quickly:
   THREAD_TERMINATED.
3. A thread inside native code (a C extension, `re`, a blocking call that
   does not return) runs no bytecode and ignores both. Then the answer is
   FAILED, says so, and points to "cancel worker". A cancel that did not
   happen is never reported as done.
"""

import ctypes
import time

from stallwatch_proto import agent_pb2

from .sessions import SessionCancelled

Outcome = agent_pb2.CommandOutcome

#: How long the async exception gets to end a thread that runs Python code.
ASYNC_EXC_WAIT_S = 2.0

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
# A void pointer, not py_object: clearing needs a real NULL (py_object(None) would pass Py_None).
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.c_void_p)
_set_async_exc.restype = ctypes.c_int


def _raise_in(ident, exc_type):
    """Sets (or with None clears) the pending async exception of thread `ident`; returns threads hit."""
    # The exception class lives as long as the interpreter; CPython takes its own reference.
    return _set_async_exc(ident, None if exc_type is None else id(exc_type))


def clear_pending_async_exc(session):
    """Called under the registry lock as a session ends: an async exception
    sent but not yet delivered must not hit whatever its (pooled) thread does
    next."""
    if session.async_exc_sent and session.thread is not None and session.thread.ident:
        _raise_in(session.thread.ident, None)
        session.async_exc_sent = False


def cancel_session(registry, session_id, reason, grace_s, innermost=None):
    """Cancels one session; returns (CommandOutcome, message). Blocks up to
    grace_s + ASYNC_EXC_WAIT_S. `innermost(ident)` names where a thread
    stands, for the message when it would not stop."""
    session = registry.get(session_id)
    if session is None:
        if registry.was_finished(session_id):
            return Outcome.COMMAND_OUTCOME_ALREADY_ENDED, f"session {session_id} had already ended"
        return Outcome.COMMAND_OUTCOME_NOT_FOUND, f"no session {session_id} on this worker"
    started = time.monotonic()
    with registry._lock:
        if session.ended.is_set():
            return Outcome.COMMAND_OUTCOME_ALREADY_ENDED, f"session {session_id} had already ended"
        session.cancel_reason = reason or "cancelled through Stallwatch"
        session.cancel_event.set()
        session.enter(agent_pb2.SESSION_STATE_CANCELLING)
    if session.ended.wait(grace_s):
        return (
            Outcome.COMMAND_OUTCOME_CANCELLED_COOPERATIVELY,
            f"user code saw the cancel flag and yielded after {_took(started)}",
        )
    thread = session.thread
    deadline = time.monotonic() + ASYNC_EXC_WAIT_S
    while True:
        with registry._lock:
            if session.ended.is_set():
                return (
                    Outcome.COMMAND_OUTCOME_CANCELLED_COOPERATIVELY,
                    f"user code saw the cancel flag and yielded after {_took(started)}",
                )
            # Never inside grpcio's own send path (see interceptor.py): usually a few ms.
            if not session.yielding:
                hit = _raise_in(thread.ident, SessionCancelled) if thread and thread.ident else 0
                session.async_exc_sent = hit == 1
                break
        if time.monotonic() > deadline:
            return (
                Outcome.COMMAND_OUTCOME_FAILED,
                f"not cancelled: for {_took(started)} the session's thread was sending a response "
                "the engine does not read, where an async exception would break grpcio itself; "
                "the cancel flag stays set. 'cancel worker' ends the process",
            )
        time.sleep(0.005)
    if hit != 1:
        return (
            Outcome.COMMAND_OUTCOME_FAILED,
            f"not cancelled: the session's thread {thread and thread.name!r} is gone but the "
            "session did not end; 'cancel worker' ends the process",
        )
    if session.ended.wait(ASYNC_EXC_WAIT_S):
        return (
            Outcome.COMMAND_OUTCOME_THREAD_TERMINATED,
            f"user code ignored the cancel flag for {grace_s * 1000:.0f} ms; SessionCancelled was "
            f"raised in thread {thread.name!r} (async exception) and the session ended after "
            f"{_took(started)}",
        )
    where = ""
    if innermost is not None:
        try:
            where = f" at {innermost(thread.ident)}"
        except Exception:  # noqa: BLE001 - the message is best effort
            where = ""
    return (
        Outcome.COMMAND_OUTCOME_FAILED,
        f"not cancelled: thread {thread.name!r} is in native code{where} and ignored both the "
        f"cancel flag and the async exception for {_took(started)}; the exception stays pending "
        "and fires if it returns to Python. 'cancel worker' ends the process",
    )


def _took(started):
    return f"{(time.monotonic() - started) * 1000:.0f} ms"
