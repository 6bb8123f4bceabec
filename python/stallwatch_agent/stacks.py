"""Every Python thread's stack, from sys._current_frames(), as a ThreadDump.

Frames read `fn (file:line) — source`, innermost first: the format the
gateway's Beam-Python parser writes, so both kinds of Python worker look
alike on the dashboard. A thread parked where threads wait for work is
"idle" (the gateway's resting state): frame_text.py says which.
"""

import linecache
import sys
import threading
import time

from stallwatch_proto import agent_pb2

from .frame_text import AGENT_THREAD_PREFIX, format_frame, frame_idle
from .sessions import now_ms, thread_key

#: Frames kept per thread (the gateway keeps 200).
MAX_FRAMES = 64
#: Threads reported at most (the gateway caps at 5000).
MAX_THREADS = 2000

#: (code, line) -> (frame text, fn, file, source): formatting a frame (linecache,
#: f-strings) is the costly part of a dump, and a parked thread shows the same
#: frames at every dump.
_TEXT: dict = {}
_TEXT_MAX = 20_000
#: The whole stack, as (code, line, code, line, ...) -> (frame texts, state): most
#: threads of a worker (pool threads, parked sessions) do not move between dumps,
#: so their stack costs one walk and one dict lookup.
_STACKS: dict = {}
_STACKS_MAX = 5_000


def _frame_text(code, line):
    key = (code, line)
    known = _TEXT.get(key)
    if known is None:
        file = code.co_filename
        source = linecache.getline(file, line).strip() if line else ""
        known = (format_frame(code.co_name, file, line, source), code.co_name, file, source)
        if len(_TEXT) >= _TEXT_MAX:
            _TEXT.clear()  # bounded: generated code must not grow this forever
        _TEXT[key] = known
    return known


def _stack(top, agent_thread):
    """(frame texts innermost first, at most MAX_FRAMES plus a cut marker, state)."""
    walk = []
    depth = 0
    frame = top
    while frame is not None:
        if depth < MAX_FRAMES:
            walk.append(frame.f_code)
            walk.append(frame.f_lineno or 0)
        depth += 1
        frame = frame.f_back
    key = (agent_thread, depth, *walk)
    known = _STACKS.get(key)
    if known is None:
        frames = [_frame_text(walk[i], walk[i + 1]) for i in range(0, len(walk), 2)]
        text = [f[0] for f in frames]
        if depth > MAX_FRAMES:
            text.append(f"… {depth - MAX_FRAMES} outer frames cut")
        idle = agent_thread or (frames and frame_idle(frames[0][2], frames[0][1], frames[0][3]))
        known = (text, "idle" if idle else "running")
        if len(_STACKS) >= _STACKS_MAX:
            _STACKS.clear()
        _STACKS[key] = known
    return known


def dump_threads(registry, into=None):
    """A ThreadDump of every thread of this interpreter; cost_micros is what it took.

    `into` (a ThreadDump field of a message being built) is filled in place:
    building the dump where it is sent saves a copy of every frame string.
    """
    started = time.perf_counter_ns()
    dump = agent_pb2.ThreadDump() if into is None else into
    frames_by_ident = sys._current_frames()
    names = {t.ident: t.name for t in threading.enumerate()}
    sessions = {s.thread.ident: s.session_id for s in registry.live() if s.thread is not None}
    add = dump.threads.add
    for ident, top in list(frames_by_ident.items())[:MAX_THREADS]:
        name = names.get(ident)
        if name is None:
            name = f"thread {ident}"
        text, state = _stack(top, name.startswith(AGENT_THREAD_PREFIX))
        add(
            thread_id=str(ident),
            name=name,
            state=state,
            frames=text,
            session_id=sessions.get(ident, ""),
        )
    del frames_by_ident, top  # frames keep their locals alive
    dump.taken_at_ms = now_ms()
    dump.cost_micros = (time.perf_counter_ns() - started) // 1000
    return dump


def innermost(ident):
    """Where thread `ident` stands now, as one frame of text."""
    frame = sys._current_frames().get(ident)
    if frame is None:
        return "(thread gone)"
    code = frame.f_code
    return format_frame(code.co_name, code.co_filename, frame.f_lineno, "")


__all__ = ["dump_threads", "frame_idle", "innermost", "thread_key"]
