"""pbwire against the real protobuf: it reads what protobuf wrote, and protobuf
reads what it writes; malformed bytes are refused, never looped on."""

import pytest

from stallwatch_proto import agent_pb2

from . import pbwire
from .agent_fields import ProfileResult, Session, StatusReport, Thread


def test_reads_what_protobuf_wrote():
    report = agent_pb2.StatusReport(
        request_id="r-é1",
        error="boom",
        sessions=[
            agent_pb2.Session(session_id="a", state=3, thread_id="17", started_at_ms=-5),
            agent_pb2.Session(session_id="b", task_context={"stage": "3"}),
        ],
    )
    buf = report.SerializeToString()
    assert pbwire.text(buf, StatusReport.REQUEST_ID) == "r-é1"
    assert pbwire.text(buf, StatusReport.ERROR) == "boom"
    sessions = pbwire.every(buf, StatusReport.SESSIONS)
    assert [agent_pb2.Session.FromString(s).session_id for s in sessions] == ["a", "b"]
    first = sessions[0]
    assert isinstance(first, bytes)
    assert pbwire.number_of(first, Session.STATE) == 3
    assert pbwire.text(first, Session.THREAD_ID) == "17"
    # A negative int64 is a 10-byte varint, read back as its unsigned form.
    assert pbwire.number_of(first, 8) == (1 << 64) - 5


def test_protobuf_reads_what_it_writes():
    thread = (
        pbwire.string_field(Thread.THREAD_ID, "140")
        + pbwire.string_field(Thread.NAME, "worker ünï")
        + pbwire.string_field(Thread.FRAMES, "f (a.py:1)")
        + pbwire.string_field(Thread.FRAMES, "g (b.py:2)")
        + pbwire.string_field(Thread.SESSION_ID, "")
    )
    parsed = agent_pb2.Thread.FromString(thread)
    assert (parsed.thread_id, parsed.name, list(parsed.frames), parsed.session_id) == (
        "140",
        "worker ünï",
        ["f (a.py:1)", "g (b.py:2)"],
        "",
    )
    big = pbwire.uint_field(ProfileResult.INTERIM, 1) + pbwire.uint_field(6, -1)
    result = agent_pb2.ProfileResult.FromString(big)
    assert result.interim is True and result.started_at_ms == -1
    assert pbwire.uint_field(3, 0) == b""


def test_without_drops_fields_and_keeps_the_rest_byte_for_byte():
    result = agent_pb2.ProfileResult(
        command_id="c", interim=True, partial=False, sampler="py", frames=[agent_pb2.ProfileFrame()]
    )
    buf = result.SerializeToString()
    trimmed = pbwire.without(buf, (ProfileResult.INTERIM,))
    again = agent_pb2.ProfileResult.FromString(trimmed)
    assert again.interim is False
    again.interim = True
    assert again == result
    assert pbwire.without(buf, ()) == buf


def test_the_last_occurrence_wins_as_in_protobuf():
    buf = pbwire.string_field(1, "first") + pbwire.string_field(1, "second")
    assert pbwire.text(buf, 1) == agent_pb2.StatusReport.FromString(buf).request_id == "second"
    which, body = pbwire.one_of(
        pbwire.bytes_field(2, b"") + pbwire.bytes_field(1, pbwire.string_field(1, "x")), (1, 2)
    )
    assert which == 1 and pbwire.text(body, 1) == "x"


@pytest.mark.parametrize(
    "bad, why",
    [
        (b"\x0a\x05abc", "past the end"),
        (b"\x08" + b"\xff" * 11, "longer than 10 bytes"),
        (b"\x08\xff", "past the end"),
        (b"\x00\x01", "field number 0"),
        (b"\x0b", "groups"),
        (b"\x0d\x01\x02", "past the end"),
    ],
)
def test_malformed_bytes_are_refused(bad, why):
    with pytest.raises(pbwire.WireError, match=why):
        list(pbwire.fields(bad))
    with pytest.raises(pbwire.WireError):
        pbwire.without(bad, (99,))
