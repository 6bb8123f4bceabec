"""Stallwatch's agent for Python UDF workers: sessions, stacks and cancel, seen from the gateway.

Adoption in an existing grpcio worker::

    import stallwatch_agent
    server = grpc.server(pool, interceptors=[stallwatch_agent.interceptor()])
    stallwatch_agent.start(gateway="127.0.0.1:7000", manage_address="127.0.0.1:50051")

UDF code may look at the cancel flag: ``stallwatch_agent.cancelled()`` or
``stallwatch_agent.check_cancelled()`` (raises SessionCancelled). Workers that
do not run UDFs on grpcio's handler threads use ``track_session()``.
See python/README.md.
"""

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import ConfigError
    from .sessions import Session, SessionCancelled, State

#: Names re-exported from submodules, loaded on first use (PEP 562). The
#: helper process runs `python -m stallwatch_agent.helper`, which imports this
#: package first: importing grpcio or protobuf here would put them in the
#: helper's memory, and the helper is kept free of both (python/README.md).
_LAZY = {
    "ConfigError": "config",
    "Session": "sessions",
    "SessionCancelled": "sessions",
    "State": "sessions",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "ConfigError",
    "Session",
    "SessionCancelled",
    "State",
    "cancelled",
    "check_cancelled",
    "current_session",
    "interceptor",
    "start",
    "track_session",
]

_started = None
_start_lock = threading.Lock()


def start(
    gateway=None,
    worker_id=None,
    manage_address="",
    token=None,
    token_file=None,
    gil_timeout_s=2.0,
    helper=None,
):
    """Starts the agent (once per process) and returns it; returns None when it cannot start.

    Non-blocking: spawns the helper process and two daemon threads, never
    waits for the gateway. helper=False (default: STALLWATCH_AGENT_HELPER,
    else True) runs without the helper process, for images that allow no
    second process: the worker then holds the gateway stream itself, and
    loses what the helper gives (a GIL held by native code is not seen, and
    cancel-worker cannot kill a worker that cannot run). gateway defaults to STALLWATCH_GATEWAY; the token
    to STALLWATCH_AGENT_TOKEN or the file named by STALLWATCH_AGENT_TOKEN_FILE.
    Any problem is logged (logger "stallwatch_agent") and the worker goes on
    without an agent.
    """
    global _started
    import os

    from .agent import Agent, InProcessAgent
    from .config import Config, ConfigError, helper_from_env, read_token
    from .contained import log
    from .sessions import REGISTRY

    with _start_lock:
        if _started is not None:
            return _started
        try:
            address = gateway or os.environ.get("STALLWATCH_GATEWAY")
            if not address:
                raise ConfigError("no gateway address: pass gateway= or set STALLWATCH_GATEWAY")
            config = Config(
                address,
                worker_id=worker_id,
                manage_address=manage_address,
                token=read_token(token, token_file),
                gil_timeout_s=gil_timeout_s,
                helper=helper_from_env() if helper is None else bool(helper),
            )
            kind = Agent if config.helper else InProcessAgent
            _started = kind(config, REGISTRY).start()
        except ConfigError as err:
            log.error("stallwatch agent not started: %s", err)
        except Exception:  # noqa: BLE001 - the worker must start anyway
            log.exception("stallwatch agent not started")
        return _started


def stop():
    """Stops the agent started by start() (bounded; for tests and clean shutdowns)."""
    global _started
    with _start_lock:
        agent, _started = _started, None
    if agent is not None:
        agent.stop()


def interceptor(registry=None):
    """A grpc.ServerInterceptor that tracks every UdfWorker.Execute stream as a session."""
    from .interceptor import ExecuteInterceptor
    from .sessions import REGISTRY

    return ExecuteInterceptor(REGISTRY if registry is None else registry)


def current_session():
    """The session whose code runs on the calling thread, or None."""
    from .sessions import session_on_thread

    return session_on_thread(threading.get_ident())


def cancelled():
    """True when Stallwatch asked to cancel the calling thread's session."""
    session = current_session()
    return session is not None and session.cancelled


def check_cancelled():
    """Raises SessionCancelled when Stallwatch asked to cancel the calling thread's session."""
    session = current_session()
    if session is not None:
        session.check_cancelled()


def track_session(udf_name="", udf_format="", task_context=None, registry=None):
    """Opens a session by hand, bound to the calling thread; use as a context manager
    (ends FINISHED, CANCELLED on SessionCancelled, FAILED on another exception)."""
    from .sessions import REGISTRY

    return (REGISTRY if registry is None else registry).open(udf_name, udf_format, task_context)
