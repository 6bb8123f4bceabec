"""Ending a real process: SIGTERM when it listens, SIGKILL when it cannot, and the words for each."""

import signal
import subprocess
import sys

from stallwatch_proto import agent_pb2

from . import killer

IGNORES_TERM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def start(code):
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None  # piped
    assert p.stdout.readline().strip() == "ready"
    return p


def test_a_process_that_stops_on_sigterm_is_reported_as_ended_by_sigterm():
    p = start("import time\nprint('ready', flush=True)\ntime.sleep(60)\n")
    outcome, message = killer.end_process(p.pid, 5.0, "test", alive=lambda: p.poll() is None)
    assert outcome == agent_pb2.COMMAND_OUTCOME_PROCESS_KILLED
    assert f"worker process {p.pid} ended on SIGTERM" in message
    assert p.returncode == -signal.SIGTERM


def test_a_process_that_ignores_sigterm_gets_sigkill_after_the_grace_and_the_message_says_why():
    p = start(IGNORES_TERM)
    outcome, message = killer.end_process(
        p.pid, 0.3, "GIL held by native code for 3.0 s", alive=lambda: p.poll() is None
    )
    assert outcome == agent_pb2.COMMAND_OUTCOME_PROCESS_KILLED
    assert "killed (SIGKILL) by the agent helper" in message
    assert "GIL held by native code for 3.0 s" in message and "unanswered for 0.3 s" in message
    assert p.returncode == -signal.SIGKILL


def test_a_process_that_outlives_sigkill_is_not_reported_as_killed():
    sent = []
    outcome, message = killer.end_process(
        4242, 0.05, "test", alive=lambda: True, send=lambda pid, sig: sent.append(sig)
    )
    assert sent == [signal.SIGTERM, signal.SIGKILL]
    assert outcome == agent_pb2.COMMAND_OUTCOME_FAILED and message.startswith("not killed")


def test_the_grace_defaults_and_is_capped():
    assert killer.grace_of(agent_pb2.KillWorker().SerializeToString()) == killer.DEFAULT_GRACE_S
    assert killer.grace_of(agent_pb2.KillWorker(grace_ms=500).SerializeToString()) == 0.5
    assert (
        killer.grace_of(agent_pb2.KillWorker(grace_ms=3_600_000).SerializeToString())
        == killer.MAX_GRACE_S
    )
