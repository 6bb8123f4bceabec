"""Ending the worker process from its helper: SIGTERM, then SIGKILL, and the truth about which.

The helper runs this for a KillWorker command (a cancel-worker whose Manage
shutdown went unanswered, typically because native code holds the GIL and
nothing in the worker can run). The helper is the worker's child, so "the
worker is gone" is "our parent changed": the kernel reparents us the moment
the worker exits, before anyone reaps it, and a pid reused later cannot fool
the check.
"""

import os
import signal
import time
from typing import Callable, Tuple

from . import pbwire
from .agent_fields import COMMAND_OUTCOME_FAILED, COMMAND_OUTCOME_PROCESS_KILLED, KillWorker

#: Time between SIGTERM and SIGKILL when the command names none; the most it may name.
DEFAULT_GRACE_S = 2.0
MAX_GRACE_S = 30.0
#: How long SIGKILL gets to end the process (it is not instant for a process in D state).
AFTER_KILL_S = 5.0
POLL_S = 0.02


def end_process(
    pid: int,
    grace_s: float,
    why: str,
    alive: Callable[[], bool],
    clock: Callable[[], float] = time.monotonic,
    send: Callable[[int, int], None] = os.kill,
) -> Tuple[int, str]:
    """Sends SIGTERM, waits up to grace_s, then SIGKILL; returns (CommandOutcome, message).

    `why` says why the worker could not stop itself ("GIL held by native code
    for 9.2 s"); `alive()` is true while the worker process runs.
    """
    started = clock()

    def took() -> str:
        return f"{clock() - started:.1f} s"

    def gone_within(limit_s: float) -> bool:
        deadline = clock() + limit_s
        while alive():
            if clock() >= deadline:
                return False
            time.sleep(POLL_S)
        return True

    if not alive():
        return COMMAND_OUTCOME_PROCESS_KILLED, f"worker process {pid} had already exited"
    try:
        send(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    if gone_within(grace_s):
        return (
            COMMAND_OUTCOME_PROCESS_KILLED,
            f"worker process {pid} ended on SIGTERM from the agent helper after {took()} ({why})",
        )
    try:
        send(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if gone_within(AFTER_KILL_S):
        return (
            COMMAND_OUTCOME_PROCESS_KILLED,
            f"worker process {pid} killed (SIGKILL) by the agent helper after {took()}: {why}; "
            f"SIGTERM went unanswered for {grace_s:.1f} s",
        )
    return (
        COMMAND_OUTCOME_FAILED,
        f"not killed: worker process {pid} still runs {took()} after SIGTERM and SIGKILL "
        "(a process in uninterruptible sleep ends only when its system call returns)",
    )


def grace_of(kill_worker: bytes) -> float:
    """The KillWorker message's grace in seconds, defaulted and capped."""
    grace_ms = pbwire.number_of(kill_worker, KillWorker.GRACE_MS)
    return min(grace_ms / 1000 or DEFAULT_GRACE_S, MAX_GRACE_S)
