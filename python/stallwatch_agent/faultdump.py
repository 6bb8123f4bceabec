"""faulthandler's text, as its C watchdog writes it, turned into the threads of a ThreadDump.

    Timeout (0:00:02)!
    Thread 0x00007f3c2a1fc6c0 (most recent call first):
      File "/path/udfs.py", line 40 in hold_gil
      ...
    <blank line between threads>

faulthandler prints no thread names and no source lines: names come from
the worker's last ALIVE frame, source lines from linecache (same files,
same machine). It keeps at most 100 frames per thread and 100 threads, and
marks a cut with "  ..." — a limit of faulthandler, named in the README.
"""

import linecache
import re
from typing import List, NamedTuple

from .frame_text import AGENT_THREAD_PREFIX, format_frame, frame_idle

_THREAD = re.compile(r"^(?:Current thread|Thread) (0x[0-9a-fA-F]+) \(most recent call first\):$")
_FRAME = re.compile(r'^  File "(.*)", line (\d+) in (.*)$')
#: Characters of faulthandler text read at most per dump.
MAX_TEXT = 1 << 20


def parse(text):
    """[(ident, [(fn, file, line), ...innermost first], cut)] in the order written."""
    threads: list = []
    current = None
    for line in text[:MAX_TEXT].splitlines():
        head = _THREAD.match(line)
        if head:
            current = (str(int(head.group(1), 16)), [], [False])
            threads.append(current)
            continue
        if current is None:
            continue
        frame = _FRAME.match(line)
        if frame:
            current[1].append((frame.group(3), frame.group(1), int(frame.group(2))))
        elif line.strip() == "...":
            current[2][0] = True
    return [(ident, frames, cut[0]) for ident, frames, cut in threads]


class DumpThread(NamedTuple):
    """One thread of the dump, as the agent protocol's Thread message has it."""

    thread_id: str
    name: str
    state: str  # "idle" or "running"
    frames: List[str]
    session_id: str


def to_threads(parsed, names, session_by_thread) -> List[DumpThread]:
    """`names` maps ident -> name, `session_by_thread` ident -> session id."""
    out = []
    for ident, frames, cut in parsed:
        name = names.get(ident, f"thread {int(ident):#x}")
        text = []
        for fn, file, line in frames:
            text.append(format_frame(fn, file, line, linecache.getline(file, line).strip()))
        if cut:
            text.append("… outer frames cut by faulthandler (100 at most)")
        innermost = frames[0] if frames else None
        idle = name.startswith(AGENT_THREAD_PREFIX) or (
            innermost is not None
            and frame_idle(
                innermost[1], innermost[0], linecache.getline(innermost[1], innermost[2]).strip()
            )
        )
        out.append(
            DumpThread(
                thread_id=ident,
                name=name,
                state="idle" if idle else "running",
                frames=text,
                session_id=session_by_thread.get(ident, ""),
            )
        )
    return out
