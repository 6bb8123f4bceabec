"""Manage: heartbeats while sessions are busy, drain and cancel-all shutdowns."""

import grpc
import pytest

from . import protocol as p
from .testing import LocalWorker, data, finish, init


@pytest.fixture
def worker():
    w = LocalWorker(max_sessions=4, cancel_wait_s=5.0)
    yield w
    w.close()


def test_heartbeat_answers_with_worker_metrics_while_sessions_spin(worker):
    streams = [worker.execute().send(init("spin")) for _ in range(4)]
    for s in streams:
        assert s.next_name() == "init"
        s.send(data())
    metrics = worker.manage(heartbeat=p.pb.Heartbeat()).heartbeat.metrics
    assert metrics["active_sessions"] == "4"
    assert int(metrics["rss_bytes"]) > 0
    worker.registry.cancel_all("test over")
    for s in streams:
        assert s.next_name() == "error:worker"
        assert s.next_name() == "cancel"


def test_sessions_beyond_the_cap_are_refused_so_manage_keeps_its_threads(worker):
    streams = [worker.execute().send(init("sleep", msPerBatch=60_000)) for _ in range(4)]
    for s in streams:
        assert s.next_name() == "init"
    extra = worker.execute().send(init("echo"))
    with pytest.raises(grpc.RpcError) as refused:
        extra.next()
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_empty_manage_request_is_invalid_argument(worker):
    with pytest.raises(grpc.RpcError) as refused:
        worker.manage()
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_drain_lets_sessions_finish_refuses_new_ones_then_settles(worker):
    s = worker.execute().send(init("echo"))
    assert s.next_name() == "init"
    answer = worker.manage(shutdown=p.pb.ShutdownRequest(reason="rolling restart"))
    assert answer.shutdown.sessions_settled is False
    refused = worker.execute().send(init("echo"))
    with pytest.raises(grpc.RpcError) as error:
        refused.next()
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    s.send(data(b"x")).send(finish())
    assert s.next_name() == "data"
    assert s.next_name() == "finish"
    s.end()
    assert worker.registry.wait_idle(10)
    assert worker.registry.counts["finished"] == 1


def test_cancel_all_sends_a_worker_error_then_cancel_response(worker):
    s = worker.execute().send(init("spin"))
    assert s.next_name() == "init"
    s.send(data())
    request = p.pb.ShutdownRequest(reason="bad deploy", cancel_sessions=True)
    assert worker.manage(shutdown=request).shutdown.sessions_settled is False
    error = s.next().control.error.error.worker
    assert "worker shutdown: bad deploy" in error.message
    assert s.next_name() == "cancel"


def test_cancel_all_reaches_a_session_waiting_for_the_engine(worker):
    s = worker.execute().send(init("echo"))
    assert s.next_name() == "init"
    worker.manage(shutdown=p.pb.ShutdownRequest(cancel_sessions=True))
    assert s.next_name() == "error:worker"
    assert s.next_name() == "cancel"
