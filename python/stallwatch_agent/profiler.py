"""StartProfile → ProfileResult: the agent's in-process sampler (docs/profiles.md).

One daemon thread samples `sys._current_frames()` every interval (10 ms,
~100 Hz, by default), folds each thread's stack (profile_fold.py) and sends
a cumulative interim result every ~2 s, then the final one. In CPU mode a
sample is kept only when the thread's CPU time moved since the previous
sample (/proc/self/task/<native_id>/schedstat, thread_cpu.py); a thread
never on a CPU gets the note "idle: 0 of N samples on CPU", never an empty
graph without words.

What the sampler cannot see: it needs the GIL like any Python thread, so a
sample waits while another thread holds it (up to the switch interval,
5 ms), and while native code holds the GIL no sample is taken at all (the
helper then answers with the last interim result, marked partial). The
intervals it really achieved are reported (`interval_us`), as is its own
CPU time (`cost_micros`). The agent's own threads are left out.
"""

import inspect
import sys
import threading
import time
from types import FrameType
from typing import Callable, Dict, Optional

from stallwatch_proto import agent_pb2

from . import native_call, thread_cpu
from .contained import contained
from .profile_fold import CUT, MAX_DEPTH, ThreadSamples, fill_threads
from .sessions import now_ms
from .stacks import AGENT_THREAD_PREFIX

DEFAULT_INTERVAL_US = 10_000
MIN_INTERVAL_US = 1_000
MAX_INTERVAL_US = 1_000_000
MAX_DURATION_MS = 60_000
INTERIM_EVERY_S = 2.0
THREAD_NAME = f"{AGENT_THREAD_PREFIX}-profiler"
Mode = agent_pb2.ProfileMode


class _Run:
    """One profile in progress, touched only by its sampling thread (and stop())."""

    def __init__(self, command: agent_pb2.Command, reply: Callable, idents: Optional[set]):
        start = command.start_profile
        self.command_id = command.command_id
        self.cpu_mode = start.mode == Mode.PROFILE_MODE_CPU
        self.duration_s = start.duration_ms / 1000
        interval_us = start.interval_us or DEFAULT_INTERVAL_US
        self.interval_s = min(max(interval_us, MIN_INTERVAL_US), MAX_INTERVAL_US) / 1e6
        self.session_id = start.session_id
        self.reply = reply
        #: Only these threads (a thread or session filter), else every thread but the agent's.
        self.idents = idents
        self.threads: Dict[int, ThreadSamples] = {}
        self.samples = 0
        self.partial_reason = ""
        self.stopping = ""


class Profiler:
    """Runs at most one profile at a time; never raises into the worker."""

    def __init__(self, registry) -> None:
        self._registry = registry
        self._lock = threading.Lock()
        self._run: Optional[_Run] = None

    def start(self, command: agent_pb2.Command, reply: Callable) -> None:
        """Answers at once with an error, or starts sampling (answered when it ends)."""
        refusal, idents = self._check(command.start_profile)
        if refusal is None:
            run = _Run(command, reply, idents)
            with self._lock:
                if self._run is not None:
                    refusal = "a profile is already running"
                else:
                    self._run = run
        if refusal is not None:
            reply(
                agent_pb2.ConnectRequest(
                    profile_result=agent_pb2.ProfileResult(
                        command_id=command.command_id, error=refusal
                    )
                )
            )
            return
        threading.Thread(
            target=self._sample_until_done, args=(run,), name=THREAD_NAME, daemon=True
        ).start()

    def stop(self, why: str = "the worker is stopping") -> None:
        """Ends the running profile early; what was sampled is sent, marked partial."""
        with self._lock:
            if self._run is not None:
                self._run.stopping = why

    def _check(self, start: agent_pb2.StartProfile):
        if start.mode not in (Mode.PROFILE_MODE_WALL, Mode.PROFILE_MODE_CPU):
            return f"unsupported profile mode {start.mode}: use wall-clock or CPU", None
        if start.mode == Mode.PROFILE_MODE_CPU and not thread_cpu.available():
            return "CPU mode needs /proc/self/task/<tid>/schedstat, which this system lacks", None
        if not 0 < start.duration_ms <= MAX_DURATION_MS:
            return f"duration {start.duration_ms} ms: give 1 to {MAX_DURATION_MS} ms", None
        idents = None
        if start.session_id:
            session = self._registry.get(start.session_id)
            if session is None:
                if self._registry.was_finished(start.session_id):
                    return f"session {start.session_id} had already ended", None
                return f"no session {start.session_id} on this worker", None
            if session.thread is None or session.thread.ident is None:
                return f"session {start.session_id} has no thread running it yet", None
            idents = {session.thread.ident}
        if start.thread_id:
            try:
                ident = int(start.thread_id)
            except ValueError:
                ident = -1
            if ident not in sys._current_frames():
                return f"no thread {start.thread_id} in this worker", None
            idents = {ident} if idents is None else idents & {ident}
            if not idents:
                return f"thread {start.thread_id} does not run session {start.session_id}", None
        return None, idents

    # The sampling thread ---------------------------------------------------------

    def _sample_until_done(self, run: _Run) -> None:
        cpu = thread_cpu.ThreadCpu() if run.cpu_mode else None
        started_ms = now_ms()
        cost_start = time.thread_time()
        started = time.monotonic()
        ends_at = started + run.duration_s
        next_at = started
        next_interim = started + INTERIM_EVERY_S
        try:
            while True:
                now = time.monotonic()
                if now >= ends_at or run.stopping or run.partial_reason:
                    break
                contained("take a profile sample", lambda: self._sample(run, cpu))
                if now >= next_interim:
                    next_interim = now + INTERIM_EVERY_S
                    self._send(run, started_ms, started, cost_start, interim=True)
                next_at += run.interval_s
                now = time.monotonic()
                if next_at < now:
                    next_at = now  # behind (the GIL was busy): go on, never in a burst
                time.sleep(max(0.0, min(next_at, ends_at) - now))
            if run.stopping and not run.partial_reason:
                run.partial_reason = run.stopping
            self._send(run, started_ms, started, cost_start, interim=False)
        finally:
            if cpu is not None:
                cpu.close()
            with self._lock:
                self._run = None

    def _sample(self, run: _Run, cpu: Optional[thread_cpu.ThreadCpu]) -> None:
        me = threading.get_ident()
        frames = sys._current_frames()
        try:
            if run.idents is not None:
                items = [(ident, frames.get(ident)) for ident in run.idents]
            else:
                items = list(frames.items())
            run.samples += 1
            for ident, top in items:
                if ident == me:
                    continue
                if top is None:
                    run.partial_reason = "the profiled thread ended"
                    if run.session_id:
                        run.partial_reason = f"session {run.session_id} ended"
                    continue
                thread = run.threads.get(ident)
                if thread is None:
                    thread = self._new_thread(run, ident)
                    run.threads[ident] = thread
                if thread is _SKIP:
                    continue
                lasti = top.f_lasti
                if top is thread.last_top and lasti == thread.last_lasti:
                    # Same frame object at the same instruction: the callers of a live
                    # frame cannot change, so a parked thread costs no walk.
                    key = thread.last_key
                else:
                    key = _walk(top, lasti)
                    if not top.f_code.co_flags & _RESUMABLE:
                        thread.last_top, thread.last_lasti, thread.last_key = top, lasti, key
                thread.taken += 1
                if cpu is not None:
                    ns = cpu.ns(thread.native_id) if thread.native_id else None
                    last, thread.last_cpu_ns = thread.last_cpu_ns, ns
                    if ns is None or last is None or ns <= last:
                        continue
                    thread.cpu_ns += ns - last
                thread.keep(key)
            if run.session_id:
                session = self._registry.get(run.session_id)
                if session is None or session.ended.is_set():
                    run.partial_reason = f"session {run.session_id} ended"
        finally:
            del frames

    def _new_thread(self, run: _Run, ident: int) -> ThreadSamples:
        known = {t.ident: t for t in threading.enumerate()}.get(ident)
        name = known.name if known is not None else f"thread {ident}"
        if run.idents is None and name.startswith(AGENT_THREAD_PREFIX):
            return _SKIP
        samples = ThreadSamples(name, known.native_id if known is not None else None)
        for session in self._registry.live():
            if session.thread is not None and session.thread.ident == ident:
                samples.session_id = session.session_id
        return samples

    def _send(self, run: _Run, started_ms: int, started: float, cost_start: float, interim: bool):
        elapsed = time.monotonic() - started
        result = agent_pb2.ProfileResult(
            command_id=run.command_id,
            sampler=(
                f"in-process sampler, sys._current_frames at {1 / run.interval_s:.0f} Hz "
                "(Python frames only; needs the GIL)"
            ),
            mode=Mode.PROFILE_MODE_CPU if run.cpu_mode else Mode.PROFILE_MODE_WALL,
            interval_us=round(elapsed * 1e6 / run.samples) if run.samples else 0,
            started_at_ms=started_ms,
            duration_ms=round(elapsed * 1000),
            interim=interim,
        )
        notes = [
            (
                "CPU mode: a sample counts when the thread's CPU time moved since the previous "
                "sample (/proc/self/task/<tid>/schedstat)"
            )
            if run.cpu_mode
            else "wall-clock mode: every sample counts, running or blocked"
        ]
        left_out = fill_threads(result, run.threads, run.cpu_mode)
        if left_out:
            notes.append(left_out)
        result.note = "; ".join(notes)
        if not interim and run.partial_reason:
            result.partial = True
            result.partial_reason = run.partial_reason
        result.cost_micros = round((time.thread_time() - cost_start) * 1e6)
        contained(
            "send a profile result",
            lambda: run.reply(agent_pb2.ConnectRequest(profile_result=result)),
        )


#: Generators and coroutines: the same frame can be resumed from another caller.
_RESUMABLE = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _walk(top: FrameType, lasti: int) -> tuple:
    """The stack as a fold key: (code, line, ...) innermost first, after the native leaf."""
    walk: list = []
    leaf = native_call.callee(top.f_code, lasti)
    if leaf is not None:
        walk.extend((None, leaf))  # the C function it is in: recv_into, sleep
    depth = 0
    frame: Optional[FrameType] = top
    while frame is not None and depth < MAX_DEPTH:
        walk.append(frame.f_code)
        walk.append(frame.f_lineno)
        frame = frame.f_back
        depth += 1
    if frame is not None:
        walk.extend(CUT)
    return tuple(walk)


#: Marks a thread the sampler leaves out (the agent's own).
_SKIP = ThreadSamples("", None)
