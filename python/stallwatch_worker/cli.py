"""``python3 -m stallwatch_worker``: flags, the listening line, signals and the process's exit.

One SIGINT/SIGTERM stops cleanly (sessions cancelled, the server stopped, exit 0), a second
one at once (exit 1). A session stuck in native code cannot be stopped from Python: after a
bounded wait the process leaves with ``os._exit``, because interpreter shutdown would join
its thread forever.
"""

from __future__ import annotations

import argparse
import io
import ipaddress
import itertools
import os
import re
import signal
import socket
import sys
import threading
import time
from typing import Callable, Optional, Sequence, cast

import stallwatch_agent

from . import VERSION
from .log import JsonLog
from .server import UdfWorkerService, WorkerHost, build_server
from .sessions import SessionRegistry
from .stop_guard import start_stop_guard

LIFELINE_ENV = "STALLWATCH_PARENT_LIFELINE"
STOP_GRACE_S = 2.0


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m stallwatch_worker",
        description="The Python reference Spark UDF worker (UdfWorker over grpcio, h2c). "
        "Batches are opaque bytes (no pyarrow here).",
    )
    parser.add_argument(
        "--listen",
        required=True,
        type=host_port,
        metavar="HOST:PORT",
        help="where to serve gRPC (port 0 picks one; the listening line says which)",
    )
    parser.add_argument(
        "--id",
        type=worker_id,
        default=f"{socket.gethostname()}-{os.getpid()}",
        help="worker id (default: <hostname>-<pid>)",
    )
    parser.add_argument(
        "--max-payload-bytes",
        type=positive,
        default=16 << 20,
        help="largest UDF payload accepted (default 16777216)",
    )
    parser.add_argument(
        "--max-sessions",
        type=positive,
        default=16,
        help="Execute streams at once; more are refused (default 16)",
    )
    parser.add_argument(
        "--gateway",
        type=host_port,
        metavar="HOST:PORT",
        help="dial this Stallwatch gateway's agent endpoint (its --grpc address)",
    )
    parser.add_argument(
        "--advertise",
        type=host_port,
        metavar="HOST:PORT",
        help="the Manage address announced to the gateway (default: the bound one)",
    )
    parser.add_argument(
        "--agent-token-file",
        metavar="FILE",
        help="the gateway's agent token (or STALLWATCH_AGENT_TOKEN)",
    )
    parser.add_argument(
        "--stop-guard-ms",
        type=positive,
        default=10_000,
        help="after a signal, how long a worker that cannot run Python (a thread holds the GIL) "
        "gets before its stop guard kills it (default 10000)",
    )
    parser.add_argument(
        "--switch-interval-ms",
        type=float,
        help="sys.setswitchinterval: how long a thread may hold the GIL before another gets it "
        "(Python's default 5); bounds Manage latency while UDFs spin in Python",
    )
    parser.add_argument("--version", action="version", version=VERSION)
    return parser.parse_args(argv)


def host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f'"{text}" is not HOST:PORT')
    return host, int(port)


def worker_id(text: str) -> str:
    if not re.fullmatch(r"[\w.:@-]{1,128}", text):
        raise argparse.ArgumentTypeError(f'"{text}" must be 1-128 letters, digits or . _ : @ -')
    return text


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f'"{text}" is not a positive integer')
    return int(text)


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    log = JsonLog(level=os.environ.get("LOG_LEVEL", "info")).child(worker=args.id)
    host_name, port = args.listen
    if not is_loopback(host_name):
        log.warn(
            "Manage and Execute have no authentication and listen beyond loopback: "
            "keep this port on a private network",
            listen=f"{host_name}:{port}",
        )
    if args.switch_interval_ms is not None:
        if not 0.01 <= args.switch_interval_ms <= 1000:
            log.error("--switch-interval-ms must be 0.01-1000")
            return 2
        sys.setswitchinterval(args.switch_interval_ms / 1000)
    stop = threading.Event()
    exit_code = [0]

    def settled() -> None:
        stop.set()

    registry = SessionRegistry(args.max_sessions)
    host = WorkerHost(log=log, registry=registry, max_payload_bytes=args.max_payload_bytes)
    service = UdfWorkerService(host, settled)
    # The agent (python/stallwatch_agent): its interceptor makes every Execute stream a session,
    # and user code sees its per-session cancel flag beside the engine's and Manage's.
    server = build_server(host, service, interceptors=[stallwatch_agent.interceptor()])
    host.extra_cancel = lambda session: stallwatch_agent.cancelled
    try:
        bound = server.add_insecure_port(f"{_bracket(host_name)}:{port}")
    except RuntimeError as err:
        bound, problem = 0, str(err)
    else:
        problem = "grpcio could not bind it"
    if bound == 0:
        log.error("cannot listen", listen=f"{host_name}:{port}", problem=problem)
        return 1
    server.start()
    address = f"{_bracket(host_name)}:{bound}"
    install_signals(stop, log)
    start_stop_guard(log, args.stop_guard_ms / 1000)
    if os.environ.get(LIFELINE_ENV) == "stdin":
        watch_lifeline(log)
    if args.gateway:
        advertise = (
            f"{_bracket(args.advertise[0])}:{args.advertise[1]}" if args.advertise else address
        )
        gateway = f"{_bracket(args.gateway[0])}:{args.gateway[1]}"
        stallwatch_agent.start(  # never blocks: a gateway that is down does not delay us
            gateway=gateway,
            worker_id=args.id,
            manage_address=advertise,
            token_file=args.agent_token_file,
        )
    log.info("listening", id=args.id, address=address, runtime=f"python {sys.version.split()[0]}")
    _wait_until(stop.is_set, None)
    return stop_worker(server, registry, log, exit_code[0])


def stop_worker(server, registry: SessionRegistry, log: JsonLog, code: int) -> int:
    """Cancels what still runs, stops the server and exits; a stuck thread cannot delay it."""
    registry.cancel_all("worker stopping")
    if not _wait_until(lambda: registry.active == 0, STOP_GRACE_S):
        log.warn(
            "sessions still running in code that ignores cancel; exiting without them",
            sessions=registry.live_ids(),
        )
        server.stop(0)
        _leave(code)
    stopped = server.stop(1.0)
    _wait_until(stopped.is_set, 2.0)
    log.info("stopped")
    return code


def install_signals(stop: threading.Event, log: JsonLog) -> None:
    # The handler can run nested in itself (a second signal arriving while the first one's
    # handler runs) or in the middle of any code of the main thread, so it takes no lock before
    # it knows which signal it is: the count is a C-level counter (next() is atomic), and its
    # lines are written without the log's lock. A first signal that took the log's lock here
    # once deadlocked with the second one's handler, nested inside it, and the stop guard had
    # to SIGKILL the worker.
    received = itertools.count()

    def on_signal(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if next(received) >= 1:
            log.write_from_signal_handler("warn", "second signal: stopping at once", signal=name)
            _leave(1)
        log.write_from_signal_handler("info", "stopping", signal=name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def watch_lifeline(log: JsonLog) -> None:
    """The demo's lifeline: stdin is a pipe from the parent; its end means the parent is gone."""

    def read() -> None:
        try:
            stdin = cast(io.BufferedReader, sys.stdin.buffer)
            while stdin.read1(4096):
                pass  # whatever the parent writes is not for us
        except (OSError, ValueError):
            pass
        log.info("the parent is gone (stdin closed); stopping")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=read, name="stallwatch-lifeline", daemon=True).start()


def _wait_until(done: Callable[[], bool], timeout: Optional[float]) -> bool:
    """Waits in short slices: a signal that lands on another thread (grpcio's C threads get
    most of them) runs its Python handler only once the main thread wakes up."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not done():
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _leave(code: int) -> None:
    try:
        sys.stdout.flush()
    except RuntimeError:
        pass  # called from a signal handler that interrupted a write to stdout: leave anyway
    os._exit(code)
