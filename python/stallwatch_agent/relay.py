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

Messages stay the bytes they arrived as (pbwire.py reads the few fields the
routing needs): the helper imports neither protobuf nor grpcio.
"""

import threading
import time

from . import agent_fields as f
from . import faultdump, pbwire
from .pbwire import bytes_field, string_field, uint_field

#: A request nobody answered is forgotten after this long (the gateway gave up long before).
FORGET_AFTER_S = 120.0
GIL_THREAD_ID = "gil-held"


def now_ms():
    # sessions.now_ms's two lines again: importing sessions.py would load protobuf in the helper.
    return int(time.time() * 1000)


class Relay:
    """All messages in and out are serialized agent-protocol messages (bytes):
    ConnectResponse from the gateway, ConnectRequest from the worker."""

    def __init__(self, to_worker, gil_timeout_s, worker_pid, clock=time.monotonic, on_kill=None):
        self._worker_pid = worker_pid
        #: (Command bytes) -> None: a kill_worker command, carried out by the helper itself.
        self._on_kill = on_kill
        self._to_worker = to_worker  # (ConnectResponse bytes) -> None
        self._to_gateway = None  # (ConnectRequest bytes) -> None, per connection
        self._gil_timeout_s = gil_timeout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._status = {}  # request_id -> (received at, include_threads)
        self._commands = {}  # command_id -> (received at, answer-by)
        #: command_id -> the last interim ProfileResult bytes (None before the first) of a
        #: profile still sampling; kept so a GIL taken mid-profile still leaves a partial profile.
        self._profiles = {}
        self._sessions: list = []  # Session messages, as bytes
        self._names = {}
        self.gil_since = None  # monotonic, while Python does not run
        self._gil_since_ms = 0
        self._gil_threads: list = []

    # The gateway side ----------------------------------------------------------

    def connected(self, to_gateway):
        """A new stream: what was pending belongs to the old one."""
        with self._lock:
            self._to_gateway = to_gateway
            self._status.clear()
            self._commands.clear()
            self._profiles.clear()

    def from_gateway(self, message):
        """A ConnectResponse; raises pbwire.WireError on bytes that are not one."""
        which, body = pbwire.one_of(
            message, (f.ConnectResponse.STATUS_REQUEST, f.ConnectResponse.COMMAND)
        )
        if which == 0:
            return
        kind = 0
        if which == f.ConnectResponse.COMMAND:
            kind, detail = pbwire.one_of(
                body, (f.Command.CANCEL_SESSION, f.Command.START_PROFILE, f.Command.KILL_WORKER)
            )
            if kind == f.Command.KILL_WORKER:
                # Never forwarded: the worker is exactly what may not be able to act.
                if self._on_kill is not None:
                    self._on_kill(body)
                return
        now = self._clock()
        with self._lock:
            held = self.gil_since is not None
            if which == f.ConnectResponse.STATUS_REQUEST:
                request_id = pbwire.text(body, f.StatusRequest.REQUEST_ID)
                threads = bool(pbwire.number_of(body, f.StatusRequest.INCLUDE_THREADS))
                if held:
                    return self._send(self._gil_status(request_id, threads))
                self._status[request_id] = (now, threads)
            else:
                command_id = pbwire.text(body, f.Command.COMMAND_ID)
                profile = kind == f.Command.START_PROFILE
                if held:
                    if profile:
                        return self._send(self._gil_profile(command_id, None))
                    return self._send(self._gil_refusal(command_id))
                if profile:
                    # The sampler runs in the worker: a GIL held past the end leaves what it sent.
                    duration_ms = pbwire.number_of(detail, f.StartProfile.DURATION_MS)
                    answer_by = now + duration_ms / 1000 + 3.0
                    self._profiles[command_id] = None
                else:
                    grace_ms = pbwire.number_of(detail, f.CancelSession.GRACE_MS)
                    answer_by = now + (grace_ms or 2000) / 1000 + 1.0
                self._commands[command_id] = (now, answer_by)
        self._to_worker(message)

    # The worker side -----------------------------------------------------------

    def from_worker(self, request):
        """A ConnectRequest; raises pbwire.WireError on bytes that are not one."""
        which, body = pbwire.one_of(
            request,
            (
                f.ConnectRequest.STATUS,
                f.ConnectRequest.COMMAND_RESULT,
                f.ConnectRequest.PROFILE_RESULT,
            ),
        )
        with self._lock:
            if which == f.ConnectRequest.STATUS:
                sessions = pbwire.every(body, f.StatusReport.SESSIONS)
                if sessions or not pbwire.text(body, f.StatusReport.ERROR):
                    self._sessions = sessions
                request_id = pbwire.text(body, f.StatusReport.REQUEST_ID)
                if self._status.pop(request_id, None) is None:
                    return
            elif which == f.ConnectRequest.COMMAND_RESULT:
                command_id = pbwire.text(body, f.CommandResult.COMMAND_ID)
                if self._commands.pop(command_id, None) is None:
                    return
            elif which == f.ConnectRequest.PROFILE_RESULT:
                command_id = pbwire.text(body, f.ProfileResult.COMMAND_ID)
                if command_id not in self._commands:
                    return
                if pbwire.number_of(body, f.ProfileResult.INTERIM):
                    self._profiles[command_id] = body
                else:
                    del self._commands[command_id]
                    self._profiles.pop(command_id, None)
            else:
                return
            self._send(request)

    def sessions_seen(self, report):
        """The worker's live sessions (a StatusReport's bytes), pushed when one opens or is
        named, and each second."""
        sessions = pbwire.every(report, f.StatusReport.SESSIONS)
        with self._lock:
            self._sessions = sessions

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
            by_thread = {}
            for session in self._sessions:
                thread_id = pbwire.text(session, f.Session.THREAD_ID)
                if thread_id:
                    by_thread[thread_id] = pbwire.text(session, f.Session.SESSION_ID)
            self._gil_threads = faultdump.to_threads(parsed, self._names, by_thread)
            waiting = list(self._status.items())
            self._status.clear()
            for request_id, (_, threads) in waiting:
                self._send(self._gil_status(request_id, threads))

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
                        self._send(self._gil_refusal(command_id))
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
            return "the worker runs Python but did not end itself after the shutdown request"

    def answer(self, request):
        """Sends the helper's own answer (a kill's result, ConnectRequest bytes)."""
        with self._lock:
            self._send(request)

    # Answers in the worker's place ---------------------------------------------

    def _held_for(self):
        return f"{self._clock() - self.gil_since:.1f} s"

    def _gil_status(self, request_id, include_threads):
        why = (
            f"GIL held by native code: no Python thread of the worker has run for "
            f"{self._held_for()} (a C extension or a regular expression that never yields); "
            "sessions as last reported, stacks from faulthandler's watchdog"
        )
        report = bytearray(string_field(f.StatusReport.REQUEST_ID, request_id))
        report += string_field(f.StatusReport.ERROR, why)
        # A session whose thread faulthandler saw outside a wait is running user code.
        running = {t.thread_id for t in self._gil_threads if t.state == "running"}
        for session in self._sessions:
            state = pbwire.number_of(session, f.Session.STATE)
            thread_id = pbwire.text(session, f.Session.THREAD_ID)
            if thread_id in running and state != f.SESSION_STATE_CANCELLING:
                session = pbwire.without(session, (f.Session.STATE,)) + uint_field(
                    f.Session.STATE, f.SESSION_STATE_PROCESSING
                )
            report += bytes_field(f.StatusReport.SESSIONS, session)
        if include_threads:
            marker = faultdump.DumpThread(
                thread_id=GIL_THREAD_ID,
                name=f"GIL held by native code for {self._held_for()}: no Python thread runs",
                state="idle",
                frames=[
                    t.frames[0] for t in self._gil_threads if t.state == "running" and t.frames
                ][:8],
                session_id="",
            )
            dump = bytearray(
                uint_field(
                    f.ThreadDump.TAKEN_AT_MS,
                    self._gil_since_ms + int(self._gil_timeout_s * 1000),
                )
            )
            for thread in (marker, *self._gil_threads):
                dump += bytes_field(f.ThreadDump.THREADS, _thread_bytes(thread))
            report += bytes_field(f.StatusReport.DUMP, bytes(dump))
        return bytes_field(f.ConnectRequest.STATUS, bytes(report))

    def _gil_profile(self, command_id, last):
        """A profile's answer while the GIL is held: `last`, the last interim result, marked
        partial, or an error when the sampler sent none."""
        why = (
            f"GIL held by native code for {self._held_for()}: no Python thread runs, so the "
            "in-process sampler cannot either"
        )
        if last is None:
            result = string_field(f.ProfileResult.COMMAND_ID, command_id) + string_field(
                f.ProfileResult.ERROR, why
            )
        else:
            result = pbwire.without(
                last,
                (f.ProfileResult.INTERIM, f.ProfileResult.PARTIAL, f.ProfileResult.PARTIAL_REASON),
            )
            result += uint_field(f.ProfileResult.PARTIAL, 1)
            result += string_field(f.ProfileResult.PARTIAL_REASON, why)
        return bytes_field(f.ConnectRequest.PROFILE_RESULT, result)

    def _gil_refusal(self, command_id):
        message = (
            f"not cancelled: the GIL has been held by native code for {self._held_for()}, so "
            "neither the cancel flag nor an async exception can reach the session's thread "
            "until it returns to Python. 'cancel worker' ends the process: its Manage shutdown "
            "needs the GIL too and goes unanswered, then the agent's helper process kills "
            f"pid {self._worker_pid}"
        )
        result = (
            string_field(f.CommandResult.COMMAND_ID, command_id)
            + uint_field(f.CommandResult.OUTCOME, f.COMMAND_OUTCOME_FAILED)
            + string_field(f.CommandResult.MESSAGE, message)
        )
        return bytes_field(f.ConnectRequest.COMMAND_RESULT, result)

    def _send(self, request):
        if self._to_gateway is not None:
            self._to_gateway(request)


def _thread_bytes(thread):
    out = bytearray(string_field(f.Thread.THREAD_ID, thread.thread_id))
    out += string_field(f.Thread.NAME, thread.name)
    out += string_field(f.Thread.STATE, thread.state)
    for frame in thread.frames:
        out += bytes_field(f.Thread.FRAMES, frame.encode("utf-8"))
    out += string_field(f.Thread.SESSION_ID, thread.session_id)
    return bytes(out)
