"""The agent in real Python worker processes, watched by a real gateway (the built CLI).

Needs `npm run build:server` (npm test builds first); skipped with a reason without it.
"""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pytest

from stallwatch_proto import agent_pb2, control_pb2, profile_pb2, udf_message_pb2 as m
from stallwatch_proto import udf_service_pb2_grpc

from .testing.gateway import REPO, Gateway, stop_process, wait_for

pytestmark = pytest.mark.skipif(
    not os.path.exists(os.path.join(REPO, "dist", "server", "main.js")),
    reason="the gateway is not built (npm run build:server)",
)
FAST = ["--status-interval-ms", "1000", "--watched-status-interval-ms", "1000"]
FAST += ["--stall-processing-ms", "1000", "--not-moving-ms", "1000"]


@pytest.fixture
def gateway():
    g = Gateway(FAST)
    yield g
    g.stop()


class Worker:
    """tiny_worker in its own process, with the agent started in it."""

    def __init__(self, gateway_address, worker_id, *extra, env=None):
        args = [sys.executable, "-m", "stallwatch_agent.testing.tiny_worker", "--id", worker_id]
        args += ["--gateway", gateway_address, *extra]
        python_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ, PYTHONPATH=python_dir, **(env or {}))
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.id = worker_id
        assert self.process.stdout is not None and self.process.stderr is not None  # piped
        line = self.process.stdout.readline()
        assert line.startswith("listening "), line + self.process.stderr.read()
        self.port = int(line.split()[1])
        self._calls = []

    def execute(self, udf, task_context=None):
        """Opens an Execute stream and sends one batch: the UDF then runs (or hangs)."""
        import grpc

        channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        init = m.Init(udf=m.UdfPayload(name=udf, format="test"), task_context=task_context or {})
        requests = [
            m.UdfRequest(control=m.UdfControlRequest(init=init)),
            m.UdfRequest(data=m.DataRequest(data=b"batch")),
        ]

        def feed():
            yield from requests
            time.sleep(120)

        call = udf_service_pb2_grpc.UdfWorkerStub(channel).Execute(feed(), timeout=120)
        self._calls.append((call, channel))
        return call

    def helper_pid(self):
        """The worker's one child: the helper (listed under the thread that started it)."""
        pids = []
        tasks = f"/proc/{self.process.pid}/task"
        for task in os.listdir(tasks):
            try:
                with open(f"{tasks}/{task}/children") as f:
                    pids += [int(p) for p in f.read().split()]
            except FileNotFoundError:
                pass  # the thread ended meanwhile
        return pids[0] if pids else None

    def stop(self):
        for call, channel in self._calls:
            call.cancel()
            channel.close()
        stop_process(self.process)


@pytest.fixture
def spawn():
    started = []

    def start(*args, env=None):
        w = Worker(*args, env=env)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def live_session(gateway, worker_id, udf):
    def find():
        detail = gateway.worker(worker_id)
        for view in detail.sessions if detail else []:
            if view.session.udf_name == udf:
                return view.session
        return None

    return wait_for(f"a {udf} session on {worker_id}", find, timeout_s=20)


def dump_with(gateway, worker_id, predicate, timeout_s=20):
    def find():
        detail = gateway.worker(worker_id)
        dump = detail.latest_dump if detail else None
        return dump if dump and predicate([t.thread for t in dump.threads]) else None

    return wait_for(f"a dump of {worker_id} that matches", find, timeout_s=timeout_s)


def cancel(gateway, worker_id, session_id, grace_ms=500):
    """Cancels through the dashboard API and waits for the action's end."""
    request = control_pb2.CancelSessionRequest(
        action_id=str(uuid.uuid4()),
        worker_id=worker_id,
        session_id=session_id,
        reason="test",
        grace_ms=grace_ms,
    )

    def done():
        action = gateway.call(
            "ControlService/CancelSession",
            request,
            control_pb2.CancelSessionResponse,
            operator=True,
        ).action
        return action if action.status != control_pb2.ACTION_STATUS_RUNNING else None

    return wait_for("the cancel to end", done, timeout_s=30, every_s=0.3)


def test_a_python_worker_announces_and_its_stuck_session_shows_with_its_stack(gateway, spawn):
    w = spawn(gateway.grpc, "py-recv")
    detail = wait_for("the worker", lambda: gateway.worker("py-recv"), timeout_s=20)
    announce = detail.worker.agent
    assert announce.pid == w.process.pid and announce.runtime.startswith("python 3.")
    assert "gil-watchdog" in announce.capabilities
    w.execute("recv", {"stage": "4"})
    session = live_session(gateway, "py-recv", "recv")
    assert session.task_context["stage"] == "4"
    assert session.state == agent_pb2.SESSION_STATE_PROCESSING
    # Until the UDF is reached the thread may be anywhere on the way (grpcio, the agent's push).
    dump = dump_with(
        gateway,
        "py-recv",
        lambda ts: any(
            t.session_id == session.session_id and "recv_into" in t.frames[0] for t in ts
        ),
    )
    udf = [t.thread for t in dump.threads if t.thread.session_id == session.session_id][0]
    assert udf.thread_id == session.thread_id and udf.state == "running"
    assert "tiny_worker.py:" in udf.frames[0] and "recv_into" in udf.frames[0]
    assert dump.cost_micros > 0

    # The gateway's own rules judge it like any other kind: stalled, its thread not moving.
    def judged():
        detail = gateway.worker("py-recv")
        views = [v for v in detail.sessions if v.session.session_id == session.session_id]
        still = [
            t
            for t in detail.latest_dump.threads
            if t.thread.session_id == session.session_id and t.not_moving
        ]
        return views and views[0].stalled and still

    wait_for("the session stalled and its thread not moving", judged, timeout_s=30)


def test_cancel_through_the_gateway_cooperative_then_by_async_exception(gateway, spawn):
    w = spawn(gateway.grpc, "py-cancel")
    w.execute("spin-coop")
    first = live_session(gateway, "py-cancel", "spin-coop")
    action = cancel(gateway, "py-cancel", first.session_id)
    assert action.status == control_pb2.ACTION_STATUS_SUCCEEDED, action.outcome
    w.execute("spin")
    second = live_session(gateway, "py-cancel", "spin")
    action = cancel(gateway, "py-cancel", second.session_id, grace_ms=300)
    assert action.status == control_pb2.ACTION_STATUS_SUCCEEDED, action.outcome
    assert "terminated" in action.outcome, action.outcome


def test_a_worker_whose_gil_is_held_shows_every_stack_and_says_so(gateway, spawn):
    w = spawn(gateway.grpc, "py-gil")
    w.execute("gil")
    session = live_session(gateway, "py-gil", "gil")
    dump = dump_with(gateway, "py-gil", lambda ts: any(t.thread_id == "gil-held" for t in ts))
    threads = {t.thread.thread_id: t.thread for t in dump.threads}
    assert "GIL held by native code" in threads["gil-held"].name
    udf = threads[session.thread_id]
    assert udf.session_id == session.session_id
    assert udf.frames[0].startswith("match (") and "_gil_hold (" in udf.frames[1]
    assert "tiny_worker.py:" in udf.frames[1]
    action = cancel(gateway, "py-gil", session.session_id, grace_ms=300)
    assert action.status == control_pb2.ACTION_STATUS_FAILED
    assert "GIL" in action.outcome and "not cancelled" in action.outcome


def cancel_worker(gateway, worker_id):
    """Cancel worker through the dashboard API; waits for the action's end."""
    request = control_pb2.CancelWorkerRequest(
        action_id=str(uuid.uuid4()), worker_id=worker_id, reason="test"
    )

    def done():
        action = gateway.call(
            "ControlService/CancelWorker",
            request,
            control_pb2.CancelWorkerResponse,
            operator=True,
        ).action
        return action if action.status != control_pb2.ACTION_STATUS_RUNNING else None

    return wait_for("the cancel-worker to end", done, timeout_s=40, every_s=0.3)


def test_cancel_worker_ends_a_gil_held_worker_through_the_helper_and_says_so(gateway, spawn):
    w = spawn(gateway.grpc, "py-kill")
    w.execute("gil")
    live_session(gateway, "py-kill", "gil")
    dump_with(gateway, "py-kill", lambda ts: any(t.thread_id == "gil-held" for t in ts))
    # Manage needs the GIL too: the shutdown goes unanswered, the helper kills the process.
    action = cancel_worker(gateway, "py-kill")
    assert action.status == control_pb2.ACTION_STATUS_SUCCEEDED, action.outcome
    assert "killed (SIGKILL) by the agent helper" in action.outcome, action.outcome
    assert "GIL held by native code" in action.outcome, action.outcome
    assert "Manage shutdown went unanswered" in action.outcome, action.outcome
    assert w.process.wait(10) == -signal.SIGKILL


def test_without_the_helper_the_agent_runs_in_process_and_says_what_it_lacks(gateway, spawn):
    w = spawn(gateway.grpc, "py-nohelper", env={"STALLWATCH_AGENT_HELPER": "0"})
    detail = wait_for("the worker", lambda: gateway.worker("py-nohelper"), timeout_s=20)
    assert w.helper_pid() is None  # no second process
    capabilities = detail.worker.agent.capabilities
    assert "thread-dump" in capabilities and "cancel-session" in capabilities
    assert "gil-watchdog" not in capabilities and "kill-worker" not in capabilities
    w.execute("recv")
    session = live_session(gateway, "py-nohelper", "recv")
    dump_with(
        gateway,
        "py-nohelper",
        lambda ts: any(
            t.session_id == session.session_id and "recv_into" in t.frames[0] for t in ts
        ),
    )
    w.execute("spin")
    spin = live_session(gateway, "py-nohelper", "spin")
    action = cancel(gateway, "py-nohelper", spin.session_id, grace_ms=300)
    assert action.status == control_pb2.ACTION_STATUS_SUCCEEDED, action.outcome


def test_the_agent_token_comes_from_a_file_and_a_wrong_one_is_refused(spawn):
    g = Gateway([*FAST, "--agent-token", "right-token-of-20-chars"])
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".token") as right:
            right.write("right-token-of-20-chars\n")
            right.flush()
            spawn(g.grpc, "py-token-ok", "--token-file", right.name)
            wait_for("the worker with the right token", lambda: g.worker("py-token-ok"), 20)
        with tempfile.NamedTemporaryFile("w", suffix=".token") as wrong:
            wrong.write("wrong-token-of-20-chars")
            wrong.flush()
            bad = spawn(g.grpc, "py-token-bad", "--token-file", wrong.name)
            wait_for(
                "the refusal in the gateway's log",
                lambda: any("agent refused" in str(e.get("msg")) for e in g.logs),
                20,
            )
            assert g.worker("py-token-bad") is None
            assert bad.process.poll() is None  # the worker runs on without its agent
    finally:
        g.stop()


def test_a_gateway_that_is_down_delays_nothing_and_is_joined_when_it_comes_up(spawn):
    probe = Gateway(FAST)
    address = probe.grpc
    probe.stop()  # a free port nobody listens on (for now)
    w = spawn(address, "py-later")
    assert w.port > 0  # the worker served at once
    host, port = address.rsplit(":", 1)
    g = Gateway([*FAST], grpc_address=address)
    try:
        wait_for("the worker to reconnect", lambda: g.worker("py-later"), timeout_s=40)
    finally:
        g.stop()


def test_the_running_helper_maps_neither_grpcio_nor_protobuf(gateway, spawn):
    # Issue 21's memory budget: the helper holds the stream with h2grpc and reads
    # messages with pbwire, so neither library is ever loaded, not even lazily.
    w = spawn(gateway.grpc, "py-lean")
    wait_for("the worker", lambda: gateway.worker("py-lean"), timeout_s=20)
    helper = w.helper_pid()
    assert helper is not None
    with open(f"/proc/{helper}/maps") as f:
        maps = f.read()
    with open(f"/proc/{w.process.pid}/maps") as f:
        assert "cygrpc" in f.read()  # the worker itself does map grpcio: the check can see it
    for library in ("cygrpc", "libprotobuf", "google/protobuf", "_ssl"):
        assert library not in maps, library


def test_the_helper_dies_with_its_worker(gateway, spawn):
    w = spawn(gateway.grpc, "py-dies")
    wait_for("the worker", lambda: gateway.worker("py-dies"), timeout_s=20)
    helper = w.helper_pid()
    assert helper is not None
    w.process.kill()
    w.process.wait(5)
    wait_for("the helper to exit", lambda: not os.path.exists(f"/proc/{helper}"), timeout_s=10)


def test_a_helper_that_dies_is_replaced_and_the_worker_is_seen_again(gateway, spawn):
    w = spawn(gateway.grpc, "py-respawn")
    wait_for("the worker", lambda: gateway.worker("py-respawn"), timeout_s=20)
    first = w.helper_pid()
    os.kill(first, signal.SIGKILL)
    wait_for(
        "the gateway to see the agent gone",
        lambda: not gateway.worker("py-respawn").worker.agent.connected,
        timeout_s=20,
    )
    second = wait_for("a new helper", lambda: (w.helper_pid() or first) != first and w.helper_pid())
    assert second != first
    wait_for(
        "the agent connected again",
        lambda: gateway.worker("py-respawn").worker.agent.connected,
        timeout_s=30,
    )
    assert w.process.poll() is None


def run_profile(gateway, worker_id, session_id, mode, duration_ms=3000):
    """A profile of one session's thread through the dashboard API, followed to its end."""
    profile_id = f"py-{uuid.uuid4().hex[:12]}"
    gateway.call(
        "ProfileService/StartProfile",
        profile_pb2.StartProfileRequest(
            profile_id=profile_id,
            worker_id=worker_id,
            session_id=session_id,
            mode=mode,
            duration_ms=duration_ms,
            reason="test",
        ),
        profile_pb2.StartProfileResponse,
        operator=True,
    )

    def finished():
        profile = gateway.call(
            "ProfileService/GetProfile",
            profile_pb2.GetProfileRequest(profile_id=profile_id),
            profile_pb2.GetProfileResponse,
        ).profile
        return profile if profile.status != control_pb2.ACTION_STATUS_RUNNING else None

    return wait_for("the profile to end", finished, timeout_s=duration_ms / 1000 + 30, every_s=0.5)


def share_of(result, function):
    """py-spy's %Total of `function` over every kept sample of the result's threads."""
    kept = hits = 0
    for thread in result.threads:
        for stack in thread.stacks:
            kept += stack.count
            if any(result.frames[i].function == function for i in stack.frames):
                hits += stack.count
    return hits / kept if kept else 0.0


def test_profiles_of_a_python_worker_spin_in_cpu_mode_and_a_hung_read_in_both(gateway, spawn):
    w = spawn(gateway.grpc, "py-profile")
    detail = wait_for("the worker", lambda: gateway.worker("py-profile"), timeout_s=20)
    assert {"profile", "profile-cpu"} <= set(detail.worker.agent.capabilities)
    w.execute("spin")
    spin = live_session(gateway, "py-profile", "spin")
    w.execute("recv")
    recv = live_session(gateway, "py-profile", "recv")

    profile = run_profile(gateway, "py-profile", spin.session_id, agent_pb2.PROFILE_MODE_CPU)
    assert profile.status == control_pb2.ACTION_STATUS_SUCCEEDED, profile.error
    result = profile.result
    assert "sys._current_frames" in result.sampler and result.mode == agent_pb2.PROFILE_MODE_CPU
    assert [t.session_id for t in result.threads] == [spin.session_id]
    assert share_of(result, "_run") >= 0.9, result
    run = next(f for f in result.frames if f.function == "_run")
    assert run.file.endswith("tiny_worker.py") and run.line > 0

    profile = run_profile(gateway, "py-profile", recv.session_id, agent_pb2.PROFILE_MODE_WALL)
    assert profile.status == control_pb2.ACTION_STATUS_SUCCEEDED, profile.error
    assert share_of(profile.result, "recv_into") >= 0.95, profile.result

    profile = run_profile(gateway, "py-profile", recv.session_id, agent_pb2.PROFILE_MODE_CPU)
    assert profile.status == control_pb2.ACTION_STATUS_SUCCEEDED, profile.error
    [thread] = profile.result.threads
    assert thread.samples_taken > 0 and not thread.stacks
    assert thread.note.startswith("idle: 0 of"), thread.note


def test_an_in_process_agent_stops_at_once_and_the_gateway_sees_it_go(gateway):
    from .agent import InProcessAgent
    from .config import Config
    from .sessions import SessionRegistry

    agent = InProcessAgent(
        Config(gateway.grpc, worker_id="py-inproc-stop", helper=False), SessionRegistry()
    ).start()
    try:
        wait_for(
            "the agent connected",
            lambda: (d := gateway.worker("py-inproc-stop")) and d.worker.agent.connected,
            timeout_s=20,
        )
    finally:
        agent.stop()
    wait_for(
        "the gateway to see the agent gone",
        lambda: not gateway.worker("py-inproc-stop").worker.agent.connected,
        timeout_s=10,
    )
    streams = [t for t in threading.enumerate() if t.name == "stallwatch-agent-stream"]
    for t in streams:
        t.join(5)
    assert not any(t.is_alive() for t in streams)
