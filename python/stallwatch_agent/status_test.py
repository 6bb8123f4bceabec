"""Answers built in the worker: unknown and bad commands refused clearly, reports capped."""

from stallwatch_proto import agent_pb2

from . import status
from .sessions import SessionRegistry


def test_an_unknown_command_gets_a_clear_refusal():
    result = status.command_result(SessionRegistry(), agent_pb2.Command(command_id="c1"))
    assert result.command_id == "c1"
    assert result.outcome == agent_pb2.COMMAND_OUTCOME_FAILED
    assert result.message == "unsupported command: this worker understands cancel_session"


def test_a_cancel_without_a_session_id_is_refused():
    command = agent_pb2.Command(command_id="c2", cancel_session=agent_pb2.CancelSession())
    result = status.command_result(SessionRegistry(), command)
    assert result.outcome == agent_pb2.COMMAND_OUTCOME_FAILED
    assert result.message == "cancel_session needs a session_id"


def test_a_report_with_threads_has_sessions_finished_and_a_dump():
    registry = SessionRegistry()
    with registry.open("a"):
        pass
    live = registry.open("b")
    request = agent_pb2.StatusRequest(request_id="r", include_threads=True, max_finished=5)
    report = status.status_report(registry, request)
    assert report.request_id == "r" and report.error == ""
    assert [s.udf_name for s in report.sessions] == ["b"]
    assert [f.udf_name for f in report.finished] == ["a"]
    assert any(t.name == "MainThread" for t in report.dump.threads)
    live.end()


def test_a_report_over_the_cap_is_cut_and_says_what_went():
    registry = SessionRegistry()
    sessions = [registry.open("x" * 2000) for _ in range(50)]
    request = agent_pb2.StatusRequest(request_id="r", include_threads=True)
    report = agent_pb2.StatusReport(request_id="r")
    report.sessions.extend(registry.sessions())
    report.dump.CopyFrom(agent_pb2.ThreadDump(threads=[agent_pb2.Thread(frames=["f" * 100] * 100)]))
    cut = status.fit_report(report, 20_000)
    assert report.ByteSize() <= 20_000
    assert "thread dump left out" in cut and "sessions left out" in cut
    assert request.request_id == "r"
    for s in sessions:
        s.end()
