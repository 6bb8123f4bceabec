"""The worker's gRPC service: ``UdfWorker.Execute`` and ``Manage`` on a grpcio server.

Built without listening (``build_server``) so tests can mount it; the entry point (``cli``)
owns flags, signals and the process's exit. Manage keeps threads of its own: Execute streams
beyond ``max_sessions`` are refused with RESOURCE_EXHAUSTED rather than queued behind them.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Sequence

import grpc

from . import protocol as p
from .execute import ExecuteSession
from .log import JsonLog
from .sessions import SessionRegistry

MAX_MESSAGE_BYTES = 64 << 20
MANAGE_THREADS = 4


@dataclass
class WorkerHost:
    """What every session shares."""

    log: JsonLog
    registry: SessionRegistry
    max_payload_bytes: int = 16 << 20
    init_wait_s: float = 60.0
    cancel_wait_s: float = 30.0
    # A session's extra cancel flag (the agent's, once adopted); None: only ours.
    extra_cancel: Callable[[ExecuteSession], Optional[Callable[[], bool]]] = field(
        default=lambda session: None
    )


class UdfWorkerService(p.service.UdfWorkerServicer):
    def __init__(self, host: WorkerHost, on_settled: Callable[[], None]) -> None:
        self.host = host
        self.draining = False
        self._on_settled = on_settled
        self._lock = threading.Lock()

    def Execute(self, request_iterator: Iterator[p.pb.UdfRequest], context: Any):
        if self.draining:
            context.abort(grpc.StatusCode.UNAVAILABLE, "this worker is draining: no new sessions")
        session = ExecuteSession(request_iterator, self.host, context.is_active)
        if not self.host.registry.add(session):
            session.inbox.close()
            context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"this worker runs {self.host.registry.max_sessions} sessions at most",
            )
        # A stream that ends under us (the engine went away) must wake a session waiting on it.
        context.add_callback(session.rpc_ended)
        self.host.log.debug("session started", session=session.id)
        try:
            yield from session.run()
        finally:
            self.host.registry.remove(session, session.outcome)

    def Manage(self, request: p.pb.WorkerRequest, context: Any) -> p.pb.WorkerResponse:
        which = request.WhichOneof("manage")
        if which == "heartbeat":
            metrics = self.host.registry.heartbeat_metrics()
            return p.pb.WorkerResponse(heartbeat=p.pb.HeartbeatResponse(metrics=metrics))
        if which == "shutdown":
            settled = self.shutdown(request.shutdown)
            return p.pb.WorkerResponse(shutdown=p.pb.ShutdownResponse(sessions_settled=settled))
        context.abort(
            grpc.StatusCode.INVALID_ARGUMENT,
            "WorkerRequest has no branch set: expected heartbeat or shutdown",
        )

    def shutdown(self, request: p.pb.ShutdownRequest) -> bool:
        """Drain (in-flight sessions complete) or cancel all; True if nothing was in flight."""
        registry = self.host.registry
        settled = registry.active == 0
        reason = request.reason or "worker shutdown"
        self.host.log.info(
            "shutdown requested",
            reason=reason,
            cancelSessions=request.cancel_sessions,
            inFlight=registry.active,
        )
        if request.cancel_sessions:
            registry.cancel_all(f"worker shutdown: {reason}")
        with self._lock:
            if self.draining:
                return settled
            self.draining = True
        threading.Thread(target=self._exit_when_idle, name="stallwatch-drain", daemon=True).start()
        return settled

    def _exit_when_idle(self) -> None:
        self.host.registry.wait_idle(None)
        self.host.log.info("all sessions settled; exiting")
        self._on_settled()


def build_server(
    host: WorkerHost, service: UdfWorkerService, interceptors: Sequence[Any] = ()
) -> grpc.Server:
    """A grpcio server with the service added, not yet bound or started."""
    pool = ThreadPoolExecutor(
        max_workers=host.registry.max_sessions + MANAGE_THREADS, thread_name_prefix="grpc-udf"
    )
    server = grpc.server(
        pool,
        interceptors=interceptors,
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # Two workers must never share a port by accident.
            ("grpc.so_reuseport", 0),
        ],
    )
    p.service.add_UdfWorkerServicer_to_server(service, server)
    return server
