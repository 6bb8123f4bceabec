"""``python3 -m stallwatch_worker`` as a real process: the listening line, flags, signals, the
demo's stdin lifeline, and stopping while a thread is stuck in native code or holds the GIL."""

import json
import os
import signal
import subprocess
import sys
import time

import grpc
import pytest

from . import protocol as p
from .testing import EngineStream, data, init

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEADLINE_S = 30


class WorkerProcess:
    def __init__(self, *args: str, lifeline: bool = False) -> None:
        env = {**os.environ, "PYTHONPATH": PYTHON_DIR}
        if lifeline:
            env["STALLWATCH_PARENT_LIFELINE"] = "stdin"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "stallwatch_worker", "--listen", "127.0.0.1:0", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.lines: list[dict] = []
        self.address = self.wait_for("listening")["address"]
        self.channel = grpc.insecure_channel(self.address)
        self.stub = p.service.UdfWorkerStub(self.channel)

    def wait_for(self, msg: str) -> dict:
        assert self.proc.stdout is not None and self.proc.stderr is not None  # both piped
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"exited before {msg!r}: {self.proc.stderr.read()}")
            entry = json.loads(line)
            self.lines.append(entry)
            if entry["msg"] == msg:
                return entry
        raise AssertionError(f"no {msg!r} line")

    def stuck_session(self, fn: str) -> EngineStream:
        s = EngineStream(self.stub).send(init(fn))
        assert s.next_name() == "init"
        s.send(data())
        # Stuck once the worker counted the batch: it does so before calling user code.
        for _ in range(200):
            if self.heartbeat()["batches_in"] == "1":
                return s
            time.sleep(0.05)
        raise AssertionError("the batch never reached user code")

    def heartbeat(self) -> dict:
        answer = self.stub.Manage(p.pb.WorkerRequest(heartbeat=p.pb.Heartbeat()), timeout=5)
        return dict(answer.heartbeat.metrics)

    def exit_code(self) -> int:
        code = self.proc.wait(DEADLINE_S)
        self.channel.close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(DEADLINE_S)


@pytest.fixture
def started():
    workers = []

    def start(*args, **kwargs):
        workers.append(WorkerProcess(*args, **kwargs))
        return workers[-1]

    yield start
    for w in workers:
        w.kill()


def test_listening_line_names_the_bound_port_and_sigint_stops_with_0(started):
    w = started("--id", "py-cli-1")
    assert w.address.startswith("127.0.0.1:") and not w.address.endswith(":0")
    answer = w.stub.Manage(p.pb.WorkerRequest(heartbeat=p.pb.Heartbeat()), timeout=DEADLINE_S)
    assert answer.heartbeat.metrics["sessions_started"] == "0"
    w.proc.send_signal(signal.SIGINT)
    assert w.exit_code() == 0


def test_bad_flags_exit_2_saying_what_is_wrong():
    env = {**os.environ, "PYTHONPATH": PYTHON_DIR}
    result = subprocess.run(
        [sys.executable, "-m", "stallwatch_worker", "--listen", "nowhere", "--id", "a b"],
        capture_output=True,
        text=True,
        env=env,
        timeout=DEADLINE_S,
    )
    assert result.returncode == 2
    assert "is not HOST:PORT" in result.stderr


def test_closing_stdin_stops_a_worker_on_the_demos_lifeline(started):
    w = started(lifeline=True)
    w.proc.stdin.close()
    assert w.exit_code() == 0


def test_sigterm_stops_a_worker_whose_session_hangs_in_a_socket_read(started):
    w = started()
    w.stuck_session("hang")
    w.proc.send_signal(signal.SIGTERM)
    assert w.exit_code() == 0
    assert "ignores cancel" in w.proc.stdout.read()


def test_a_second_signal_stops_at_once(started):
    w = started()
    w.stuck_session("hang")
    w.proc.send_signal(signal.SIGTERM)
    w.wait_for("stopping")
    w.proc.send_signal(signal.SIGTERM)
    assert w.exit_code() == 1


def test_the_stop_guard_kills_a_worker_whose_thread_holds_the_gil(started):
    w = started("--stop-guard-ms", "1000")
    s = EngineStream(w.stub).send(init("gil", seconds=3600))
    assert s.next_name() == "init"
    s.send(data())
    # The match starts: heartbeats now stop being answered (the GIL is held).
    with pytest.raises(grpc.RpcError) as silent:
        for _ in range(50):
            w.stub.Manage(p.pb.WorkerRequest(heartbeat=p.pb.Heartbeat()), timeout=0.5)
    assert silent.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    w.proc.send_signal(signal.SIGTERM)
    assert w.exit_code() == -signal.SIGKILL
    assert "holding the GIL" in w.proc.stdout.read()
