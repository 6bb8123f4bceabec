"""The worker's side of the agent: a helper process holds the gateway stream,
this side answers what the helper forwards.

Why a helper (README "GIL held by native code"): when native code holds the
GIL no thread of the worker can run Python, so no in-process agent can
answer. The helper is another interpreter (sys.executable) that keeps the
gateway connection, forwards each request here over a socketpair, and when
faulthandler's C watchdog reports that Python stopped running, answers in
the worker's place with the stacks the watchdog wrote.
"""

import concurrent.futures
import faulthandler
import json
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Optional

from stallwatch_proto import agent_pb2

from . import status, wire
from .contained import contained, log
from .gateway_stream import GatewayStream
from .profiler import Profiler

#: A helper that dies is replaced after 1 s, doubling to 30 s; one that lived a minute resets it.
RESPAWN_FIRST_S = 1.0
RESPAWN_MAX_S = 30.0
RESPAWN_HEALTHY_S = 60.0
#: Gateway requests in flight at most; beyond, the gateway is answered "busy" at once.
MAX_IN_FLIGHT = 32
_PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Agent:
    """A running agent. Never raises into the worker; stop() is bounded."""

    def __init__(self, config, registry):
        self.config = config
        self._registry = registry
        self._send_lock = threading.Lock()
        self._stopped = threading.Event()
        self._in_flight = 0
        self._count_lock = threading.Lock()
        self._status_pool = concurrent.futures.ThreadPoolExecutor(
            2, thread_name_prefix="stallwatch-agent-status"
        )
        self._command_pool = concurrent.futures.ThreadPoolExecutor(
            8, thread_name_prefix="stallwatch-agent-command"
        )
        self._profiler = Profiler(registry)
        self._sock: Optional[socket.socket] = None
        self._fault_w: Optional[int] = None
        self.helper: Optional[subprocess.Popen] = None
        #: Held while faulthandler is armed on, or we swap, the pipe to the helper.
        self._watch_lock = threading.Lock()

    # Life -----------------------------------------------------------------

    def start(self):
        self._spawn()
        self._registry.on_change = self._push_sessions
        for name, target in (("reader", self._read), ("watchdog", self._watchdog)):
            threading.Thread(target=target, name=f"stallwatch-agent-{name}", daemon=True).start()
        return self

    def _spawn(self):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        fault_r, fault_w = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PYTHON_DIR, env.get("PYTHONPATH")]))
        if self.config.token:
            env["STALLWATCH_AGENT_TOKEN"] = self.config.token  # never on argv: ps shows it
        env.pop("STALLWATCH_AGENT_TOKEN_FILE", None)
        args = [sys.executable, "-m", "stallwatch_agent.helper"]
        args += ["--fd", str(theirs.fileno()), "--fault-fd", str(fault_r)]
        args += ["--gateway", self.config.gateway, "--worker-pid", str(os.getpid())]
        args += ["--gil-timeout-s", str(self.config.gil_timeout_s)]
        try:
            self.helper = subprocess.Popen(
                args,
                pass_fds=(theirs.fileno(), fault_r),
                env=env,
                stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
            os.close(fault_r)
        with self._send_lock, self._watch_lock:
            self._sock = ours
            self._fault_w = fault_w
        self._send(wire.ANNOUNCE, self.config.announce().SerializeToString())

    def _respawn(self, delay_s):
        """A helper that died is replaced (after delay_s): status must not end for good."""
        old = self.helper
        code = contained("reap the old helper", lambda: old.wait(5)) if old else None
        log.warning(
            "stallwatch agent: the helper process ended (exit %s); starting another in %.0f s",
            code,
            delay_s,
        )
        with self._watch_lock:
            contained("disarm the watchdog", faulthandler.cancel_dump_traceback_later)
            self._close_pipe()
        self._close_sock()
        if self._stopped.wait(delay_s):
            return False
        return contained("start a helper", lambda: self._spawn() or True, False)

    def stop(self, timeout_s=5.0):
        """Tells the helper to go, and waits for it at most timeout_s."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._profiler.stop()
        self._registry.on_change = None
        contained("stop the watchdog", faulthandler.cancel_dump_traceback_later)
        contained("tell the helper to stop", lambda: self._send(wire.STOP))
        helper = self.helper
        if helper is not None:
            try:
                helper.wait(timeout_s)
            except subprocess.TimeoutExpired:
                helper.kill()
                helper.wait(1)
        with self._watch_lock:
            self._close_sock()
            self._close_pipe()
        self._status_pool.shutdown(wait=False, cancel_futures=True)
        self._command_pool.shutdown(wait=False, cancel_futures=True)

    # The helper's requests ---------------------------------------------------

    def _close_sock(self):
        sock = self._sock
        if sock is not None:
            contained("close the helper's socket", sock.close)

    def _close_pipe(self):
        """Closes the watchdog's pipe to the helper; the caller holds _watch_lock."""
        fault_w, self._fault_w = self._fault_w, None
        if fault_w is not None:
            contained("close the helper's pipe", lambda: os.close(fault_w))

    def _send(self, kind, payload=b""):
        frame = wire.encode(kind, payload)
        with self._send_lock:
            sock = self._sock
            if sock is None:
                raise OSError("no helper socket")
            sock.sendall(frame)

    def _read(self):
        delay_s = RESPAWN_FIRST_S
        while not self._stopped.is_set():
            started = time.monotonic()
            try:
                while True:
                    frame = wire.read_frame(self._sock)
                    if frame is None:
                        break
                    kind, payload = frame
                    if kind == wire.RESPONSE:
                        self._handle(agent_pb2.ConnectResponse.FromString(payload))
            except Exception:  # noqa: BLE001 - a broken link is a dead helper
                pass
            if self._stopped.is_set():
                return
            if time.monotonic() - started > RESPAWN_HEALTHY_S:
                delay_s = RESPAWN_FIRST_S
            if not self._respawn(delay_s):
                return
            delay_s = min(delay_s * 2, RESPAWN_MAX_S)

    def _handle(self, message, reply=None):
        """Answers one gateway message on a pool thread; `reply` (default: to the
        helper) takes the answer."""
        reply = reply or self._reply
        which = message.WhichOneof("message")
        if which is None:
            return  # a newer gateway's message: nothing to answer
        with self._count_lock:
            busy = self._in_flight >= MAX_IN_FLIGHT
            if not busy:
                self._in_flight += 1
        if busy:
            reply(_busy_answer(message))
            return
        if which == "command" and message.command.WhichOneof("kind") == "start_profile":
            # Validated here and answered by the profiler's own thread when sampling ends.
            try:
                contained("start a profile", lambda: self._profiler.start(message.command, reply))
            finally:
                with self._count_lock:
                    self._in_flight -= 1
            return
        if which == "status_request":
            pool, work = self._status_pool, lambda: _status(self._registry, message.status_request)
        else:
            pool, work = self._command_pool, lambda: _command(self._registry, message.command)
        pool.submit(self._answer, work, reply)

    def _answer(self, work, reply):
        try:
            answer = contained("answer the gateway", work)
            if answer is not None:
                reply(answer)
        finally:
            with self._count_lock:
                self._in_flight -= 1

    def _reply(self, answer):
        contained(
            "send an answer to the helper",
            lambda: self._send(wire.REQUEST, answer.SerializeToString()),
        )

    def _push_sessions(self):
        report = agent_pb2.StatusReport(sessions=self._registry.sessions())
        self._send(wire.SESSIONS, report.SerializeToString())

    # GIL watchdog --------------------------------------------------------------

    def _watchdog(self):
        """Re-arms faulthandler's C watchdog every second. It fires (writing every
        thread's stack into the helper's pipe) only if this thread cannot run for
        gil_timeout_s: then no Python thread runs, and native code holds the GIL."""
        names = None
        while not self._stopped.is_set():
            with self._watch_lock:
                if self._fault_w is not None:
                    contained("arm the GIL watchdog", self._arm)
            now = {str(t.ident): t.name for t in threading.enumerate()}
            payload = json.dumps(now).encode() if now != names else b""
            try:
                self._send(wire.ALIVE, payload)
                names = now
                if self._registry.live():
                    self._push_sessions()
            except OSError:
                names = None  # a new helper needs the names again; the reader replaces it
            self._stopped.wait(self.config.rearm_s)

    def _arm(self):
        if self._fault_w is not None:
            faulthandler.dump_traceback_later(
                self.config.gil_timeout_s, repeat=False, file=self._fault_w
            )


class InProcessAgent(Agent):
    """The agent without its helper process (STALLWATCH_AGENT_HELPER=0, start(helper=False)):
    a daemon thread of the worker holds the gateway stream and answers on it.

    What is lost (README): when native code holds the GIL nothing answers, so
    the gateway sees the agent go silent rather than where it is stuck, and
    cancel-worker cannot end a worker that cannot run (no "kill-worker").
    """

    def start(self):
        self._stream: Optional[GatewayStream] = None
        threading.Thread(target=self._connect, name="stallwatch-agent-stream", daemon=True).start()
        return self

    def _connect(self):
        from .connect_loop import connect_forever

        contained(
            "hold the gateway stream",
            lambda: connect_forever(
                self.config.gateway,
                self.config.announce().SerializeToString(),
                self.config.token,
                self._on_stream,
                self._on_message,
                lambda text: log.info("stallwatch agent: %s", text),
                self._stopped,
            ),
        )

    def _on_stream(self, stream):
        self._stream = stream

    def _on_message(self, message):
        # An answer goes on the stream its request came on: put() on a closed
        # stream drops it, so a late answer never reaches a newer stream (the
        # gateway counts unsolicited answers against us).
        stream = self._stream
        if stream is not None:
            self._handle(
                agent_pb2.ConnectResponse.FromString(message),
                lambda answer: stream.put(answer.SerializeToString()),
            )

    def stop(self, timeout_s=5.0):
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._profiler.stop()
        stream = self._stream
        if stream is not None:
            stream.abort()
        self._status_pool.shutdown(wait=False, cancel_futures=True)
        self._command_pool.shutdown(wait=False, cancel_futures=True)


def _status(registry, request):
    answer = agent_pb2.ConnectRequest()
    status.status_report(registry, request, into=answer.status)
    return answer


def _command(registry, command):
    return agent_pb2.ConnectRequest(command_result=status.command_result(registry, command))


def _busy_answer(message):
    why = f"worker busy: {MAX_IN_FLIGHT} gateway requests already in flight"
    if message.WhichOneof("message") == "status_request":
        report = agent_pb2.StatusReport(request_id=message.status_request.request_id, error=why)
        return agent_pb2.ConnectRequest(status=report)
    result = agent_pb2.CommandResult(
        command_id=message.command.command_id,
        outcome=agent_pb2.COMMAND_OUTCOME_FAILED,
        message=why,
    )
    return agent_pb2.ConnectRequest(command_result=result)
