"""A profile's samples, folded per thread by stack, and the ProfileResult they make.

A sample of one thread is its stack as a key: (code, line, code, line, ...)
innermost first, as the sampler walked it. Keys are counted as they come and
turned into the contract's frame table and root-first index lists only when
a result is built (every ~2 s and at the end), so a sample costs one walk
and one dict update. Frames are `function (file:line)` with the line the
frame stood on, as py-spy shows them.

The gateway's caps (docs/profiles.md) are kept here, below them: a thread
with too many distinct stacks folds the rest under "(other stacks)", a
stack too deep keeps its innermost frames under "(outer frames cut)", a
frame table that is full folds new stacks under "(frame table full)".
"""

import collections
from typing import Dict, List, Optional, Tuple

from stallwatch_proto import agent_pb2

#: Below the gateway's caps: 20,000 frames, 50,000 stacks per thread, 256 deep, 64 threads.
MAX_FRAMES = 19_000
MAX_STACKS_PER_THREAD = 40_000
MAX_DEPTH = 250
MAX_THREADS = 64
MAX_TEXT = 2000
#: A walk that stopped at MAX_DEPTH ends with this pair; (None, "name") is a native leaf.
CUT = (None, 0)
_OTHER_STACKS: Tuple = ("(other stacks)",)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


class ThreadSamples:
    """One thread's samples: how many were taken, and the kept ones by stack."""

    def __init__(self, name: str, native_id: Optional[int]) -> None:
        self.name = name
        self.native_id = native_id
        self.session_id = ""
        self.taken = 0
        self.kept = 0
        self.last_cpu_ns: Optional[int] = None
        #: The last sample's top frame, instruction and key. Holding the frame keeps its
        #: locals alive until the next sample of this thread or the profile's end.
        self.last_top: Optional[object] = None
        self.last_lasti = -1
        self.last_key: Tuple = ()
        self.cpu_ns = 0
        self.stacks: Dict[Tuple, int] = collections.defaultdict(int)
        #: Consecutive samples of one stack (the same key object), not yet in stacks.
        self._run_key: Tuple = ()
        self._run_count = 0

    def keep(self, key: Tuple) -> None:
        self.kept += 1
        if key is self._run_key:
            self._run_count += 1  # the same stack again: counted without hashing it
            return
        self.flush()
        self._run_key, self._run_count = key, 1

    def flush(self) -> None:
        """Folds the run of identical samples into stacks (before a result is built)."""
        key, count = self._run_key, self._run_count
        self._run_count = 0
        if count == 0:
            return
        if len(self.stacks) >= MAX_STACKS_PER_THREAD and key not in self.stacks:
            key = _OTHER_STACKS
        self.stacks[key] += count


class FrameTable:
    """The result's frames, each (function, file, line) once."""

    def __init__(self, result: agent_pb2.ProfileResult) -> None:
        self._result = result
        self._index: Dict[Tuple[str, str, int], int] = {}

    def index(self, function: str, file: str, line: int) -> int:
        key = (function, file, line)
        known = self._index.get(key)
        if known is None:
            known = len(self._index)
            self._index[key] = known
            self._result.frames.add(function=_clip(function), file=_clip(file), line=line)
        return known

    def room_for(self, n: int) -> bool:
        return len(self._index) + n <= MAX_FRAMES


def stack_indexes(key: Tuple, table: FrameTable) -> List[int]:
    """Root-first frame indexes for one walked key (innermost first, code/line pairs)."""
    if key is _OTHER_STACKS:
        return [table.index("(other stacks)", "", 0)]
    pairs = [(key[i], key[i + 1]) for i in range(len(key) - 2, -1, -2)]
    if not table.room_for(len(pairs)):
        return [table.index("(frame table full)", "", 0)]
    out = []
    for code, line in pairs:
        if code is None and isinstance(line, str):
            out.append(table.index(line, "", 0))  # the native function called (native_call.py)
        elif code is None:
            out.append(table.index("(outer frames cut)", "", 0))
        else:
            out.append(table.index(code.co_name, code.co_filename, line or 0))
    return out


def idle_note(thread: ThreadSamples) -> str:
    return (
        f"idle: 0 of {thread.taken} samples on CPU (the thread was blocked or waiting; it used "
        f"{thread.cpu_ns / 1e6:.0f} ms of CPU in the window)"
    )


def fill_threads(
    result: agent_pb2.ProfileResult, threads: Dict[int, ThreadSamples], cpu_mode: bool
) -> str:
    """Adds the threads (busiest first, at most MAX_THREADS) and the frame table to result;
    returns a note naming what was left out, or ""."""
    table = FrameTable(result)
    ranked = sorted(threads.items(), key=lambda item: (-item[1].kept, -item[1].taken))
    for samples in threads.values():
        samples.flush()
    for ident, samples in ranked[:MAX_THREADS]:
        thread = result.threads.add(
            thread_id=str(ident),
            name=_clip(samples.name),
            session_id=samples.session_id,
            samples_taken=samples.taken,
        )
        # Keys that differ only where a line's bytecode stood fold into one stack.
        folded: Dict[Tuple[int, ...], int] = collections.defaultdict(int)
        for key, count in list(samples.stacks.items()):
            folded[tuple(stack_indexes(key, table))] += count
        for frames, count in folded.items():
            thread.stacks.add(frames=frames, count=count)
        if cpu_mode and samples.kept == 0 and samples.taken > 0:
            thread.note = idle_note(samples)
    left = len(ranked) - MAX_THREADS
    return f"{left} quieter threads left out ({MAX_THREADS} at most)" if left > 0 else ""
