"""The interceptor's sessions and the cancel ladder, on a real grpcio server over loopback."""

import linecache
import sys
import threading

import pytest

import stallwatch_agent
from stallwatch_proto import agent_pb2
from stallwatch_proto import udf_message_pb2 as m

from . import cancel
from .sessions import REGISTRY, SessionCancelled, SessionRegistry
from .testing.gateway import wait_for

S = agent_pb2.SessionState
C = agent_pb2.CommandOutcome


def only_session(registry):
    return wait_for("one live session", lambda: registry.live()[0] if registry.live() else None)


def processing(worker, registry, udf):
    """Opens a session of `udf`, sends it one batch and waits until its UDF runs."""
    call, requests = worker.open(udf)
    next(call)
    worker.batch(requests)
    session = only_session(registry)
    wait_for("processing", lambda: session.state == S.SESSION_STATE_PROCESSING)
    return session


def test_an_execute_stream_is_a_session_whose_state_follows_the_messages(worker, registry):
    call, requests = worker.open("echo", {"stage": "7", "partition": "3"})
    assert next(call).control.HasField("init")
    session = only_session(registry)
    wait_for("waiting for input", lambda: session.state == S.SESSION_STATE_WAITING_FOR_INPUT)
    proto = session.to_proto()
    assert proto.udf_name == "echo" and proto.udf_format == "test"
    assert dict(proto.task_context) == {"stage": "7", "partition": "3"}
    assert proto.thread_id == str(session.thread.ident)
    assert session.thread.name.startswith("udf")

    worker.batch(requests, b"12345")
    assert next(call).data.data == b"12345"
    wait_for("one batch each way", lambda: session.counters["batches_out"] == 1)
    assert session.counters["bytes_in"] == 5 and session.counters["bytes_out"] == 5
    worker.finish(requests)
    assert next(call).control.finish.metrics.rows_out == 1
    wait_for("the session ended", lambda: registry.live() == [])
    done = registry.finished(10)[0]
    assert done.outcome == agent_pb2.SESSION_OUTCOME_FINISHED
    assert done.metrics.rows_in == 1 and done.task_context["stage"] == "7"


def test_a_session_stuck_in_its_udf_shows_processing_on_its_own_thread(worker, registry):
    session = processing(worker, registry, "recv")
    assert session.thread is not threading.current_thread()


def test_cancel_is_cooperative_when_the_udf_looks_at_the_flag(worker, registry):
    session = processing(worker, registry, "spin-coop")
    outcome, message = cancel.cancel_session(registry, session.session_id, "test", 5.0)
    assert outcome == C.COMMAND_OUTCOME_CANCELLED_COOPERATIVELY, message
    assert registry.finished(1)[0].outcome == agent_pb2.SESSION_OUTCOME_CANCELLED


def test_cancel_raises_in_a_pure_python_loop_that_ignores_the_flag(worker, registry):
    session = processing(worker, registry, "spin")
    outcome, message = cancel.cancel_session(registry, session.session_id, "test", 0.2)
    assert outcome == C.COMMAND_OUTCOME_THREAD_TERMINATED, message
    assert "async exception" in message
    assert registry.finished(1)[0].outcome == agent_pb2.SESSION_OUTCOME_CANCELLED


def test_cancel_of_a_thread_in_native_code_says_it_did_not_happen(worker, registry, monkeypatch):
    monkeypatch.setattr(cancel, "ASYNC_EXC_WAIT_S", 0.3)
    session = processing(worker, registry, "sleep")
    wait_for("in select()", lambda: "select.select(" in _innermost_source(session))
    outcome, message = cancel.cancel_session(registry, session.session_id, "test", 0.2)
    assert outcome == C.COMMAND_OUTCOME_FAILED
    assert "not cancelled" in message and "cancel worker" in message
    assert registry.get(session.session_id) is session  # still live: never reported as done


def _innermost_source(session):
    frame = sys._current_frames().get(session.thread.ident)
    return linecache.getline(frame.f_code.co_filename, frame.f_lineno) if frame else ""


def test_cancel_answers_not_found_and_already_ended():
    registry = SessionRegistry()
    with registry.open("done"):
        pass
    ended = registry.finished(1)[0].session_id
    assert cancel.cancel_session(registry, ended, "", 1)[0] == C.COMMAND_OUTCOME_ALREADY_ENDED
    assert cancel.cancel_session(registry, "nope", "", 1)[0] == C.COMMAND_OUTCOME_NOT_FOUND


def test_the_explicit_api_tracks_a_session_on_any_thread_and_sees_the_flag():
    seen = {}

    def udf():
        try:
            with stallwatch_agent.track_session("by-hand", task_context={"k": "v"}) as s:
                s.enter(S.SESSION_STATE_PROCESSING)
                s.progress(rows_in=10, batches_in=1)
                seen["session"] = s
                while not stallwatch_agent.cancelled():
                    threading.Event().wait(0.01)
                stallwatch_agent.check_cancelled()
        except SessionCancelled:
            seen["raised"] = True

    t = threading.Thread(target=udf, name="my-udf-thread")
    t.start()
    s = wait_for("the session", lambda: seen.get("session"))
    assert s.to_proto().thread_id == str(t.ident) and s.counters["rows_in"] == 10
    registry = REGISTRY
    outcome, _ = cancel.cancel_session(registry, s.session_id, "by test", 5)
    t.join(5)
    assert outcome == C.COMMAND_OUTCOME_CANCELLED_COOPERATIVELY
    assert registry.finished(1)[0].outcome == agent_pb2.SESSION_OUTCOME_CANCELLED
    assert seen["raised"]


def test_progress_rejects_an_unknown_counter():
    with pytest.raises(TypeError):
        SessionRegistry().open().progress(rows=1)


def test_session_cancelled_is_not_an_exception_udf_code_swallows():
    assert not issubclass(SessionCancelled, Exception)


def test_a_stream_read_from_another_thread_never_gets_the_cancel_raised_there():
    registry = SessionRegistry()
    session = registry.open("x")  # bound to this thread
    from .interceptor import _observe_requests

    session.cancel_event.set()
    batches = [m.UdfRequest(data=m.DataRequest(data=b"1")) for _ in range(2)]
    got = []
    reader = threading.Thread(
        target=lambda: got.extend(_observe_requests(session, iter(batches))), name="reader"
    )
    reader.start()
    reader.join(5)
    assert got == batches  # the reader thread read on; the session's own thread sees the flag
    with pytest.raises(SessionCancelled):
        next(_observe_requests(session, iter(batches)))
    session.end()
