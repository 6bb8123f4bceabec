"""A small helper process that makes "a signal stops the worker" true even while a thread
holds the GIL in C (the ``gil`` UDF: catastrophic ``re`` backtracking).

Then no Python code runs, so no Python signal handler does. But CPython's C-level handler
still writes the signal's number to the wakeup fd (``signal.set_wakeup_fd``). That fd is a
pipe to this helper: once a SIGINT/SIGTERM arrives it gives the worker ``GRACE_S`` to stop by
itself, and SIGKILLs it after that, or at once on a second signal. The helper exits when the
pipe's write end closes, i.e. with the worker, however the worker ends.

Run as a script (``sys.executable stop_guard.py FD PID GRACE_S``), standard library only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Optional

GRACE_S = 10.0
STOPPING = {signal.SIGINT, signal.SIGTERM}


def start_stop_guard(log, grace_s: float = GRACE_S) -> None:
    """Starts the helper and routes this process's signal wakeups to it (main thread only)."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        subprocess.Popen(
            [
                sys.executable,
                os.path.abspath(__file__),
                str(read_end),
                str(os.getpid()),
                str(grace_s),
            ],
            pass_fds=(read_end,),
            stdin=subprocess.DEVNULL,
            start_new_session=False,
        )
    except OSError as err:
        log.warn("no stop guard: a thread holding the GIL could delay a stop", problem=str(err))
        os.close(write_end)
        return
    finally:
        os.close(read_end)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)


def _guard(read_end: int, worker: int, grace_s: float) -> None:
    # Our own group's SIGINT is for the worker: we leave with it, when the pipe closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    deadline: Optional[float] = None
    signals = 0
    while True:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        readable = _wait_readable(read_end, wait)
        if not readable:
            waited = f"{grace_s:g} s of the signal" if signals < 2 else "1 s of a second signal"
            _kill(
                worker,
                f"the worker did not stop within {waited} (a thread holding the GIL?): killing it",
            )
            return
        data = os.read(read_end, 64)
        if not data:
            return  # the worker is gone
        for number in data:
            if number in STOPPING:
                signals += 1
                if deadline is None:
                    deadline = time.monotonic() + grace_s
        if signals >= 2:
            # A second signal means "now": the worker's own handler does it when it can run.
            deadline = min(deadline or 0, time.monotonic() + 1.0)


def _wait_readable(fd: int, timeout: float | None) -> bool:
    import select

    return bool(select.select([fd], [], [], timeout)[0])


def _kill(pid: int, why: str) -> None:
    line = {
        "level": 50,
        "time": int(time.time() * 1000),
        "pid": os.getpid(),
        "worker_pid": pid,
        "msg": why,
    }
    print(json.dumps(line), flush=True)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    _guard(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
