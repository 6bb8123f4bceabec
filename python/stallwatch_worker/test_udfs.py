"""The demo UDF catalogue on its own: parsing, parameters, cancel behaviour."""

import threading

import pytest

from .context import SessionCancelled, UdfContext
from .udfs import UdfSpecError, _length_for, parse_udf


def make(payload: bytes, fmt: str = "stallwatch.demo.v1"):
    return parse_udf(fmt, payload, UdfContext())


def test_aliases_of_the_typescript_worker():
    assert make(b'{"fn":"slow"}')[0] == "sleep"
    assert make(b'{"fn":"fail"}')[0] == "raise"


@pytest.mark.parametrize(
    "fmt,payload,says",
    [
        ("other.v1", b'{"fn":"echo"}', "not supported"),
        ("stallwatch.demo.v1", b"{not json", "not JSON"),
        ("stallwatch.demo.v1", b'{"x":1}', 'needs an "fn"'),
        ("stallwatch.demo.v1", b'{"fn":"double"}', "unknown fn"),
    ],
)
def test_bad_payloads_say_what_is_wrong(fmt, payload, says):
    with pytest.raises(UdfSpecError, match=says):
        make(payload, fmt)


def test_bad_parameter_is_refused_at_init():
    _, udf = make(b'{"fn":"sleep","msPerBatch":"soon"}')
    with pytest.raises(UdfSpecError, match="msPerBatch"):
        udf.init()


def test_raise_uses_builtin_classes_and_names_unknown_ones():
    _, udf = make(b'{"fn":"raise","errorClass":"MyPipelineError","message":"m"}')
    udf.init()
    with pytest.raises(Exception) as raised:
        udf.process(b"x")
    assert type(raised.value).__name__ == "MyPipelineError"


def test_uncooperative_spin_ignores_the_flag_cooperative_one_stops():
    ctx = UdfContext()
    ctx.request_cancel("stop")
    _, udf = parse_udf("stallwatch.demo.v1", b'{"fn":"spin","msPerBatch":50}', ctx)
    udf.init()
    with pytest.raises(SessionCancelled):
        udf.process(b"x")
    _, stubborn = parse_udf(
        "stallwatch.demo.v1", b'{"fn":"spin","msPerBatch":50,"cooperative":false}', ctx
    )
    stubborn.init()
    assert stubborn.process(b"x") == b"x"


def test_hang_blocks_in_recv_into_until_its_socket_closes():
    _, udf = make(b'{"fn":"hang"}')
    udf.init()
    result = []
    reader = threading.Thread(target=lambda: result.append(udf.process(b"x")), daemon=True)
    reader.start()
    reader.join(0.3)
    assert reader.is_alive(), "a read whose peer never writes does not return"
    udf._peer.close()  # what the test (not a cancel) can do: the peer goes away
    reader.join(10)
    assert result == [b"x"]


def test_gil_length_grows_with_the_seconds_asked():
    assert 16 <= _length_for(0.001) < _length_for(10) < _length_for(3600) <= 80


def test_context_with_an_extra_flag():
    flag: list[bool] = []
    ctx = UdfContext(extra_cancel=lambda: bool(flag))
    assert not ctx.cancelled
    flag.append(True)
    assert ctx.cancelled and ctx.wait(5)
