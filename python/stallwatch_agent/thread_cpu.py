"""Per-thread CPU time from /proc/self/task/<native_id>/schedstat, for the sampler's CPU mode.

schedstat's first field is the nanoseconds the thread spent on a CPU
(stat's utime/stime tick at 100 Hz, too coarse for 10 ms samples). Each
thread's file stays open for the profile and is re-read with pread(2) at
offset 0: one system call per thread per sample, not three.
"""

import os
from typing import Dict, Optional

#: Threads whose files are kept open at most (the gateway keeps 64 per profile).
MAX_OPEN = 512


def available() -> bool:
    """True where per-thread CPU time can be read (Linux with schedstat)."""
    return os.path.exists(f"/proc/self/task/{os.getpid()}/schedstat")


class ThreadCpu:
    """Reads threads' CPU time; close() releases the files."""

    def __init__(self) -> None:
        self._fds: Dict[int, int] = {}

    def ns(self, native_id: int) -> Optional[int]:
        """The thread's CPU time so far in ns, or None when it cannot be read (it ended)."""
        fd = self._fds.get(native_id)
        try:
            if fd is None:
                if len(self._fds) >= MAX_OPEN:
                    return None
                fd = os.open(f"/proc/self/task/{native_id}/schedstat", os.O_RDONLY)
                self._fds[native_id] = fd
            text = os.pread(fd, 128, 0)
            return int(text.split(None, 1)[0])
        except (OSError, ValueError, IndexError):
            self.forget(native_id)
            return None

    def forget(self, native_id: int) -> None:
        fd = self._fds.pop(native_id, None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self) -> None:
        for native_id in list(self._fds):
            self.forget(native_id)
