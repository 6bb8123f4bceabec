"""The Execute stream rules, over real gRPC (grpcio as the engine) to the worker's service."""

import json
import time
import zlib

import pytest

from .testing import LocalWorker, cancel, chunk, data, finish, init


@pytest.fixture
def worker():
    w = LocalWorker(cancel_wait_s=5.0)
    yield w
    w.close()


def test_echo_returns_every_batch_and_finishes_with_metrics(worker):
    s = worker.execute().send(init("echo"))
    assert s.next_name() == "init"
    s.send(data(b"a" * 10)).send(data(b"b" * 5)).send(finish())
    assert [s.next().data.data for _ in range(2)] == [b"a" * 10, b"b" * 5]
    done = s.next()
    s.end()
    metrics = done.control.finish.metrics
    assert (metrics.bytes_in, metrics.bytes_out, metrics.batches_in, metrics.batches_out) == (
        15,
        15,
        2,
        2,
    )
    assert metrics.init_wall_nanos > 0 and metrics.processing_wall_nanos > 0
    assert not metrics.HasField("rows_in"), "batches are opaque: rows are not claimed"


def test_count_emits_nothing_per_batch_and_its_totals_in_finish(worker):
    s = worker.execute().send(init("count"))
    assert s.next_name() == "init"
    s.send(data(b"12345")).send(data(b"678")).send(finish())
    done = s.next()
    assert json.loads(done.control.finish.data) == {"batches": 2, "bytes": 8}


def test_chunked_payload_is_checked_against_size_and_crc(worker):
    payload = json.dumps({"fn": "echo"}).encode()
    first = init("echo")
    first.control.init.udf.payload = payload[:5]
    first.control.init.is_chunking_payload = True
    first.control.init.udf.payload_size = len(payload)
    first.control.init.udf.payload_crc32 = zlib.crc32(payload)
    s = worker.execute().send(first).send(chunk(payload[5:9], False))
    s.send(chunk(payload[9:], True))
    assert s.next_name() == "init"

    bad = init("echo")
    bad.control.init.udf.payload_crc32 = 1
    s = worker.execute().send(bad)
    response = s.next()
    assert "payload_crc32 mismatch" in response.control.init.error.protocol.message
    assert s.next_name() == "cancel"


def test_unknown_udf_is_an_init_error_naming_what_exists_then_the_engines_cancel_ends_it(worker):
    s = worker.execute().send(init("nope"))
    response = s.next()
    assert "unknown fn" in response.control.init.error.worker.message
    assert "echo" in response.control.init.error.worker.message
    s.send(cancel())
    assert s.next_name() == "cancel"
    assert s.next_name() == "end"


def test_unspecified_data_format_is_refused_in_init(worker):
    request = init("echo")
    request.control.init.data_format = 0
    s = worker.execute().send(request)
    assert "UNSPECIFIED is not supported" in s.next().control.init.error.worker.message


def test_data_before_init_is_a_protocol_error_and_the_stream_closes(worker):
    s = worker.execute().send(data())
    assert s.next_name() == "init-error:protocol"
    assert s.next_name() == "cancel"


def test_second_init_is_a_protocol_error_then_cancel(worker):
    s = worker.execute().send(init("echo"))
    assert s.next_name() == "init"
    s.send(init("echo"))
    response = s.next()
    assert response.control.error.error.protocol.message == "a second Init"
    assert s.next_name() == "cancel"


def test_user_error_carries_class_and_traceback_then_waits_for_the_engines_cancel(worker):
    s = worker.execute().send(init("raise", errorClass="ZeroDivisionError", message="boom"))
    assert s.next_name() == "init"
    s.send(data())
    error = s.next().control.error.error.user
    assert (error.error_class, error.message) == ("ZeroDivisionError", "boom")
    assert "udfs.py" in error.traceback
    s.send(cancel())
    assert s.next_name() == "cancel"


def test_init_error_from_user_code(worker):
    s = worker.execute().send(init("raise", inInit=True, errorClass="KeyError"))
    assert s.next().control.init.error.user.error_class == "KeyError"


def test_a_cancel_behind_a_running_batch_is_read_when_the_batch_ends(worker):
    # No read-ahead (see inbox.py): the batch completes, then the Cancel ends the session.
    s = worker.execute().send(init("spin", msPerBatch=100))
    assert s.next_name() == "init"
    s.send(data(b"x")).send(cancel())
    assert s.next_name() == "data"
    response = s.next()
    assert response.control.WhichOneof("control") == "cancel"
    assert response.control.cancel.metrics.work_cpu_nanos > 0


def test_an_outside_cancel_ends_a_sleep_at_once_and_says_why(worker):
    s = worker.execute().send(init("sleep", msPerBatch=600_000))
    assert s.next_name() == "init"
    s.send(data())
    while worker.registry.batches_in == 0:
        time.sleep(0.01)
    worker.registry.cancel_all("operator: stuck")
    assert s.next().control.error.error.worker.message.endswith("operator: stuck")
    assert s.next_name() == "cancel"


def test_finish_then_cancel_is_answered_with_one_terminator(worker):
    s = worker.execute().send(init("echo"))
    assert s.next_name() == "init"
    s.send(finish()).send(cancel())
    assert s.next_name() in ("finish", "cancel")
    assert s.next_name() == "end"


def test_engine_closing_before_finish_is_a_protocol_error(worker):
    s = worker.execute().send(init("echo"))
    assert s.next_name() == "init"
    s.end()
    assert s.next().control.error.error.protocol.message.startswith("the engine closed")
    assert s.next_name() == "cancel"


def test_a_broken_stream_ends_the_session_as_cancelled(worker):
    s = worker.execute().send(init("sleep", msPerBatch=60_000))
    assert s.next_name() == "init"
    s.send(data())
    s.call.cancel()
    assert worker.registry.wait_idle(10)
    assert worker.registry.counts["cancelled"] == 1, worker.registry.counts
