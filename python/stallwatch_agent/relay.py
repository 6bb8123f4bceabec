"""The helper's routing between the gateway stream and the worker, and its
answers in the worker's place while the GIL is held.

Every gateway request is forwarded to the worker and remembered as pending
for the current connection. The worker's answer goes back only if still
pending (an answer for a closed stream, or one the helper already gave,
would count against us at the gateway as unsolicited). While faulthandler
says no Python thread runs (the GIL is held by native code):
- a status request is answered here: the last sessions the worker reported,
  and when threads are asked for, faulthandler's stacks plus a marker
  thread saying the GIL is held;
- a cancel is answered FAILED, saying why and pointing to "cancel worker":
  neither the cancel flag nor an async exception can act before the GIL is
  released.
"""

import threading
import time

from stallwatch_proto import agent_pb2

from . import faultdump
from .sessions import now_ms

#: A request nobody answered is forgotten after this long (the gateway gave up long before).
FORGET_AFTER_S = 120.0
GIL_THREAD_ID = "gil-held"


class Relay:
    def __init__(self, to_worker, gil_timeout_s, worker_pid, clock=time.monotonic, on_kill=None):
        self._worker_pid = worker_pid
        #: (Command) -> None: a kill_worker command, carried out by the helper itself.
        self._on_kill = on_kill
        self._to_worker = to_worker  # (ConnectResponse) -> None
        self._to_gateway = None  # (ConnectRequest) -> None, per connection
        self._gil_timeout_s = gil_timeout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._status = {}  # request_id -> (received at, include_threads)
        self._commands = {}  # command_id -> (received at, answer-by)
        #: command_id -> the last interim ProfileResult (None before the first) of a profile
        #: still sampling; kept so a GIL taken mid-profile still leaves a partial profile.
        self._profiles = {}
        self._sessions = []
        self._names = {}
        self.gil_since = None  # monotonic, while Python does not run
        self._gil_since_ms = 0
        self._gil_threads = []

    # The gateway side ----------------------------------------------------------

    def connected(self, to_gateway):
        """A new stream: what was pending belongs to the old one."""
        with self._lock:
            self._to_gateway = to_gateway
            self._status.clear()
            self._commands.clear()
            self._profiles.clear()

    def from_gateway(self, message):
        which = message.WhichOneof("message")
        if which is None:
            return
        if which == "command" and message.command.WhichOneof("kind") == "kill_worker":
            # Never forwarded: the worker is exactly what may not be able to act.
            if self._on_kill is not None:
                self._on_kill(message.command)
            return
        now = self._clock()
        with self._lock:
            held = self.gil_since is not None
            if which == "status_request":
                request = message.status_request
                if held:
                    return self._send(self._gil_status(request))
                self._status[request.request_id] = (now, request.include_threads)
            else:
                command = message.command
                profile = command.WhichOneof("kind") == "start_profile"
                if held:
                    if profile:
                        return self._send(self._gil_profile(command.command_id, None))
                    return self._send(self._gil_refusal(command))
                if profile:
                    # The sampler runs in the worker: a GIL held past the end leaves what it sent.
                    answer_by = now + command.start_profile.duration_ms / 1000 + 3.0
                    self._profiles[command.command_id] = None
                else:
                    answer_by = now + (command.cancel_session.grace_ms or 2000) / 1000 + 1.0
                self._commands[command.command_id] = (now, answer_by)
        self._to_worker(message)

    # The worker side -----------------------------------------------------------

    def from_worker(self, request):
        which = request.WhichOneof("message")
        with self._lock:
            if which == "status":
                report = request.status
                if report.sessions or not report.error:
                    self._sessions = list(report.sessions)
                if self._status.pop(report.request_id, None) is None:
                    return
            elif which == "command_result":
                if self._commands.pop(request.command_result.command_id, None) is None:
                    return
            elif which == "profile_result":
                result = request.profile_result
                if result.command_id not in self._commands:
                    return
                if result.interim:
                    self._profiles[result.command_id] = result
                else:
                    del self._commands[result.command_id]
                    self._profiles.pop(result.command_id, None)
            else:
                return
            self._send(request)

    def sessions_seen(self, sessions):
        """The worker's live sessions, pushed when one opens or is named, and each second."""
        with self._lock:
            self._sessions = list(sessions)

    def alive(self, names):
        """The worker's Python ran (its watchdog thread re-armed)."""
        with self._lock:
            if names is not None:
                self._names = names
            released = self.gil_since is not None
            self.gil_since = None
        return released

    def gil_held(self, fault_text):
        """faulthandler's watchdog fired: nothing ran Python for gil_timeout_s."""
        parsed = faultdump.parse(fault_text)
        now = self._clock()
        with self._lock:
            self.gil_since = now - self._gil_timeout_s
            self._gil_since_ms = now_ms() - int(self._gil_timeout_s * 1000)
            by_thread = {s.thread_id: s.session_id for s in self._sessions if s.thread_id}
            self._gil_threads = faultdump.to_threads(parsed, self._names, by_thread)
            waiting = list(self._status.items())
            self._status.clear()
            for request_id, (_, threads) in waiting:
                request = agent_pb2.StatusRequest(request_id=request_id, include_threads=threads)
                self._send(self._gil_status(request))

    def tick(self):
        """Cancels past their deadline while the GIL is held get their honest answer."""
        now = self._clock()
        with self._lock:
            for command_id, (received, answer_by) in list(self._commands.items()):
                if self.gil_since is not None and now >= answer_by:
                    del self._commands[command_id]
                    if command_id in self._profiles:
                        self._send(self._gil_profile(command_id, self._profiles.pop(command_id)))
                    else:
                        self._send(self._gil_refusal(agent_pb2.Command(command_id=command_id)))
                elif now - received > FORGET_AFTER_S:
                    del self._commands[command_id]
                    self._profiles.pop(command_id, None)
            for request_id, (received, _) in list(self._status.items()):
                if now - received > FORGET_AFTER_S:
                    del self._status[request_id]

    def why_stuck(self):
        """Why the worker cannot stop itself, in words, for a kill's outcome."""
        with self._lock:
            if self.gil_since is not None:
                return f"GIL held by native code for {self._held_for()}"
            return "the worker runs Python but did not answer the Manage shutdown"

    def answer(self, request):
        """Sends the helper's own answer (a kill's result) on the current stream."""
        with self._lock:
            self._send(request)

    # Answers in the worker's place ---------------------------------------------

    def _held_for(self):
        return f"{self._clock() - self.gil_since:.1f} s"

    def _gil_status(self, request):
        why = (
            f"GIL held by native code: no Python thread of the worker has run for "
            f"{self._held_for()} (a C extension or a regular expression that never yields); "
            "sessions as last reported, stacks from faulthandler's watchdog"
        )
        report = agent_pb2.StatusReport(request_id=request.request_id, error=why)
        report.sessions.extend(self._sessions)
        # A session whose thread faulthandler saw outside a wait is running user code.
        running = {t.thread_id for t in self._gil_threads if t.state == "running"}
        for s in report.sessions:
            if s.thread_id in running and s.state != agent_pb2.SESSION_STATE_CANCELLING:
                s.state = agent_pb2.SESSION_STATE_PROCESSING
        if request.include_threads:
            marker = agent_pb2.Thread(
                thread_id=GIL_THREAD_ID,
                name=f"GIL held by native code for {self._held_for()}: no Python thread runs",
                state="idle",
                frames=[
                    t.frames[0] for t in self._gil_threads if t.state == "running" and t.frames
                ][:8],
            )
            report.dump.CopyFrom(
                agent_pb2.ThreadDump(
                    taken_at_ms=self._gil_since_ms + int(self._gil_timeout_s * 1000),
                    cost_micros=0,
                    threads=[marker, *self._gil_threads],
                )
            )
        return agent_pb2.ConnectRequest(status=report)

    def _gil_profile(self, command_id, last):
        """A profile's answer while the GIL is held: `last`, the last interim result, marked
        partial, or an error when the sampler sent none."""
        why = (
            f"GIL held by native code for {self._held_for()}: no Python thread runs, so the "
            "in-process sampler cannot either"
        )
        result = agent_pb2.ProfileResult(command_id=command_id, error=why)
        if last is not None:
            result.CopyFrom(last)
            result.interim = False
            result.partial = True
            result.partial_reason = why
        return agent_pb2.ConnectRequest(profile_result=result)

    def _gil_refusal(self, command):
        result = agent_pb2.CommandResult(
            command_id=command.command_id,
            outcome=agent_pb2.COMMAND_OUTCOME_FAILED,
            message=(
                f"not cancelled: the GIL has been held by native code for {self._held_for()}, so "
                "neither the cancel flag nor an async exception can reach the session's thread "
                "until it returns to Python. 'cancel worker' ends the process: its Manage shutdown "
                "needs the GIL too and goes unanswered, then the agent's helper process kills "
                f"pid {self._worker_pid}"
            ),
        )
        return agent_pb2.ConnectRequest(command_result=result)

    def _send(self, request):
        if self._to_gateway is not None:
            self._to_gateway(request)
