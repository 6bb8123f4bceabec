"""The helper's relay and its answers while the GIL is held, fed by faulthandler's real output."""

import subprocess
import sys
import textwrap

import pytest

from stallwatch_proto import agent_pb2

from . import faultdump, pbwire
from .relay import GIL_THREAD_ID, Relay

HOLDER = textwrap.dedent(
    """
    import faulthandler, re, sys, threading
    waiter = threading.Thread(target=threading.Event().wait, name="parked", daemon=True)
    waiter.start()
    print(threading.get_ident(), waiter.ident, flush=True)
    faulthandler.dump_traceback_later(0.5, exit=True, file=sys.stdout)
    def hold_gil():
        return re.match(r"(a|aa)+$", "a" * 64 + "b")
    hold_gil()
    """
)


def real_fault_text():
    """What faulthandler's watchdog writes for a process whose GIL is held by `re`."""
    out = subprocess.run(
        [sys.executable, "-c", HOLDER], capture_output=True, text=True, timeout=60
    ).stdout
    first, _, rest = out.partition("\n")
    main_ident, parked_ident = first.split()
    return rest, main_ident, parked_ident


def test_faulthandler_output_parses_into_threads_with_frames_innermost_first():
    text, main_ident, parked_ident = real_fault_text()
    assert text.startswith("Timeout (0:00:00.500000)!")
    parsed = {ident: frames for ident, frames, _cut in faultdump.parse(text)}
    assert set(parsed) == {main_ident, parked_ident}
    # Innermost first: re's Python wrapper, then the caller that handed it the pattern.
    assert parsed[main_ident][0][0] == "match" and parsed[main_ident][0][1].endswith(
        "re/__init__.py"
    )
    assert parsed[main_ident][1][:2] == ("hold_gil", "<string>")
    threads = faultdump.to_threads(
        faultdump.parse(text), {parked_ident: "parked"}, {main_ident: "s1"}
    )
    by_id = {t.thread_id: t for t in threads}
    assert by_id[main_ident].state == "running" and by_id[main_ident].session_id == "s1"
    assert by_id[parked_ident].state == "idle" and by_id[parked_ident].name == "parked"
    assert by_id[main_ident].frames[0].startswith("match (/")
    assert " — return _compile(pattern, flags).match(string)" in by_id[main_ident].frames[0]
    assert by_id[main_ident].frames[1].startswith("hold_gil (<string>:")


class Wires:
    """What the relay sent each way, parsed by the real protobuf: the relay writes
    its own answers by hand (pbwire), so these tests check its bytes too."""

    def __init__(self):
        self.to_worker = []
        self.to_gateway = []

    def worker(self, message: bytes):
        self.to_worker.append(agent_pb2.ConnectResponse.FromString(message))

    def gateway(self, request: bytes):
        self.to_gateway.append(agent_pb2.ConnectRequest.FromString(request))


class MessageRelay(Relay):
    """The relay fed protobuf messages, serialized as the helper's wires deliver them."""

    def from_gateway(self, message):
        super().from_gateway(message.SerializeToString())

    def from_worker(self, request):
        super().from_worker(request.SerializeToString())


def relay_with_wires():
    wires = Wires()
    relay = MessageRelay(wires.worker, 2.0, worker_pid=4242)
    relay.connected(wires.gateway)
    return relay, wires


def status_request(request_id, threads=False):
    return agent_pb2.ConnectResponse(
        status_request=agent_pb2.StatusRequest(request_id=request_id, include_threads=threads)
    )


def cancel_command(command_id):
    cancel = agent_pb2.CancelSession(session_id="s1", grace_ms=100)
    return agent_pb2.ConnectResponse(
        command=agent_pb2.Command(command_id=command_id, cancel_session=cancel)
    )


def test_requests_go_to_the_worker_and_only_awaited_answers_come_back():
    relay, wires = relay_with_wires()
    relay.from_gateway(status_request("r1"))
    assert [m.status_request.request_id for m in wires.to_worker] == ["r1"]
    relay.from_worker(agent_pb2.ConnectRequest(status=agent_pb2.StatusReport(request_id="r1")))
    relay.from_worker(agent_pb2.ConnectRequest(status=agent_pb2.StatusReport(request_id="r1")))
    relay.from_worker(agent_pb2.ConnectRequest(status=agent_pb2.StatusReport(request_id="zz")))
    assert [m.status.request_id for m in wires.to_gateway] == ["r1"]


def test_while_the_gil_is_held_the_helper_answers_with_faulthandlers_stacks_and_says_so():
    text, main_ident, _ = real_fault_text()
    relay, wires = relay_with_wires()
    session = agent_pb2.Session(session_id="s1", thread_id=main_ident, udf_name="gil")
    report = agent_pb2.StatusReport(request_id="r0", sessions=[session])
    relay.from_gateway(status_request("r0"))
    relay.from_worker(agent_pb2.ConnectRequest(status=report))
    relay.from_gateway(status_request("pending", threads=True))
    relay.gil_held(text)
    relay.from_gateway(status_request("r2", threads=True))
    answers = {m.status.request_id: m.status for m in wires.to_gateway}
    assert set(answers) == {"r0", "pending", "r2"}
    for request_id in ("pending", "r2"):
        held = answers[request_id]
        assert held.error.startswith("GIL held by native code")
        assert [s.session_id for s in held.sessions] == ["s1"]
        marker = held.dump.threads[0]
        assert marker.thread_id == GIL_THREAD_ID and "GIL held" in marker.name
        assert marker.frames[0].startswith("match (/")
        stuck = [t for t in held.dump.threads if t.thread_id == main_ident][0]
        assert stuck.session_id == "s1" and stuck.state == "running"
    # A late answer from the worker for a request the helper answered is dropped.
    relay.from_worker(agent_pb2.ConnectRequest(status=agent_pb2.StatusReport(request_id="r2")))
    assert len(wires.to_gateway) == 3


def test_a_cancel_while_the_gil_is_held_is_refused_honestly_and_never_reported_done():
    text, _, _ = real_fault_text()
    relay, wires = relay_with_wires()
    relay.from_gateway(cancel_command("before"))
    relay.gil_held(text)
    relay.from_gateway(cancel_command("during"))
    results = [m.command_result for m in wires.to_gateway]
    assert [r.command_id for r in results] == ["during"]
    assert results[0].outcome == agent_pb2.COMMAND_OUTCOME_FAILED
    assert "GIL" in results[0].message and "kills pid 4242" in results[0].message
    # The one forwarded before the GIL was taken is answered at its deadline.
    relay._commands["before"] = (0.0, 0.0)
    relay.tick()
    assert [m.command_result.command_id for m in wires.to_gateway] == ["during", "before"]
    assert wires.to_gateway[1].command_result.outcome == agent_pb2.COMMAND_OUTCOME_FAILED


def test_once_python_runs_again_requests_reach_the_worker_again():
    text, _, _ = real_fault_text()
    relay, wires = relay_with_wires()
    relay.gil_held(text)
    assert relay.alive(None) is True
    relay.from_gateway(status_request("after"))
    assert [m.status_request.request_id for m in wires.to_worker] == ["after"]
    assert wires.to_gateway == []


def test_a_new_stream_forgets_what_was_pending_on_the_old_one():
    relay, wires = relay_with_wires()
    relay.from_gateway(status_request("old"))
    relay.connected(wires.gateway)
    relay.from_worker(agent_pb2.ConnectRequest(status=agent_pb2.StatusReport(request_id="old")))
    assert wires.to_gateway == []


def test_kill_worker_is_carried_out_by_the_helper_and_never_forwarded_to_the_worker():
    forwarded: list = []
    kills: list = []
    relay = MessageRelay(forwarded.append, 2.0, 4242, on_kill=kills.append)
    relay.connected(lambda _request: None)
    kill = agent_pb2.Command(command_id="k1", kill_worker=agent_pb2.KillWorker(grace_ms=100))
    relay.from_gateway(agent_pb2.ConnectResponse(command=kill))
    assert forwarded == [] and [agent_pb2.Command.FromString(k) for k in kills] == [kill]
    assert "did not end itself after the shutdown request" in relay.why_stuck()


def profile_command(command_id, duration_ms=1000):
    start = agent_pb2.StartProfile(mode=agent_pb2.PROFILE_MODE_WALL, duration_ms=duration_ms)
    return agent_pb2.ConnectResponse(
        command=agent_pb2.Command(command_id=command_id, start_profile=start)
    )


def profile_result(command_id, interim, samples):
    thread = agent_pb2.ProfileThread(thread_id="1", samples_taken=samples)
    result = agent_pb2.ProfileResult(command_id=command_id, interim=interim, threads=[thread])
    return agent_pb2.ConnectRequest(profile_result=result)


def test_profile_results_interim_and_final_pass_through_once_and_nothing_after():
    relay, wires = relay_with_wires()
    relay.from_gateway(profile_command("p1"))
    assert [m.command.command_id for m in wires.to_worker] == ["p1"]
    relay.from_worker(profile_result("p1", True, 10))
    relay.from_worker(profile_result("p1", False, 20))
    relay.from_worker(profile_result("p1", False, 30))  # nobody waits any more
    relay.from_worker(profile_result("zz", False, 1))
    got = [
        (m.profile_result.interim, m.profile_result.threads[0].samples_taken)
        for m in wires.to_gateway
    ]
    assert got == [(True, 10), (False, 20)]


def test_a_gil_taken_mid_profile_leaves_the_last_interim_result_marked_partial():
    text, _, _ = real_fault_text()
    relay, wires = relay_with_wires()
    relay.from_gateway(profile_command("p1"))
    relay.from_worker(profile_result("p1", True, 10))
    relay.gil_held(text)
    relay._commands["p1"] = (0.0, 0.0)  # past its answer-by
    relay.tick()
    final = wires.to_gateway[-1].profile_result
    assert final.command_id == "p1" and not final.interim and final.partial
    assert final.threads[0].samples_taken == 10
    assert final.partial_reason.startswith("GIL held by native code")
    assert len(final.threads) == 1  # the interim result's own fields, kept byte for byte
    # A profile asked while the GIL is held is refused at once, as a ProfileResult.
    relay.from_gateway(profile_command("p2"))
    refused = wires.to_gateway[-1].profile_result
    assert refused.command_id == "p2" and "GIL held by native code" in refused.error


def test_the_sessions_the_worker_pushes_are_what_the_helper_reports_while_the_gil_is_held():
    text, main_ident, _ = real_fault_text()
    relay, wires = relay_with_wires()
    parked = agent_pb2.Session(
        session_id="s2", thread_id="1", state=agent_pb2.SESSION_STATE_WAITING_FOR_INPUT
    )
    cancelling = agent_pb2.Session(
        session_id="s3", thread_id=main_ident, state=agent_pb2.SESSION_STATE_CANCELLING
    )
    running = agent_pb2.Session(
        session_id="s1",
        thread_id=main_ident,
        state=agent_pb2.SESSION_STATE_WAITING_FOR_INPUT,
        task_context={"stage": "7"},
        progress=agent_pb2.Progress(rows_in=5),
    )
    pushed = agent_pb2.StatusReport(sessions=[running, parked, cancelling])
    relay.sessions_seen(pushed.SerializeToString())
    relay.gil_held(text)
    relay.from_gateway(status_request("r", threads=False))
    report = wires.to_gateway[-1].status
    assert not report.HasField("dump")
    by_id = {s.session_id: s for s in report.sessions}
    # Seen by faulthandler outside a wait: running user code, everything else kept.
    assert by_id["s1"].state == agent_pb2.SESSION_STATE_PROCESSING
    assert by_id["s1"].task_context == {"stage": "7"} and by_id["s1"].progress.rows_in == 5
    assert by_id["s2"].state == agent_pb2.SESSION_STATE_WAITING_FOR_INPUT
    assert by_id["s3"].state == agent_pb2.SESSION_STATE_CANCELLING


def test_bytes_that_are_not_a_message_are_refused_and_change_nothing():
    relay, wires = relay_with_wires()
    with pytest.raises(pbwire.WireError):
        Relay.from_gateway(relay, b"\x0a\x09short")
    with pytest.raises(pbwire.WireError):
        Relay.from_worker(relay, b"\x12\xff")
    assert wires.to_worker == [] and wires.to_gateway == []
