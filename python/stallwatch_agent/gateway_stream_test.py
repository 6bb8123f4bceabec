"""The agent's gateway stream (h2grpc underneath) against Debian's grpcio
serving AgentService, a peer we did not write: Announce first, answers in
order, the token, why a stream ended, and the bounded outbox."""

import concurrent.futures
import queue
import threading

import grpc
import pytest

from stallwatch_proto import agent_pb2, agent_pb2_grpc

from .gateway_stream import MAX_QUEUED, GatewayStream


class Servicer(agent_pb2_grpc.AgentServiceServicer):
    """Records what the agent sent, answers from `script`, and ends as told."""

    def __init__(self):
        self.received: "queue.Queue[agent_pb2.ConnectRequest]" = queue.Queue()
        self.metadata: dict = {}
        self.script: list = []
        self.end = threading.Event()
        self.abort_with = None

    def Connect(self, request_iterator, context):
        self.metadata = dict(context.invocation_metadata())
        if self.abort_with is not None:
            context.abort(*self.abort_with)
        first = next(request_iterator)
        self.received.put(first)
        for response in self.script:
            yield response

        def read():
            for request in request_iterator:
                self.received.put(request)

        threading.Thread(target=read, daemon=True).start()
        self.end.wait(30)


@pytest.fixture
def served():
    servicer = Servicer()
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(4))
    agent_pb2_grpc.add_AgentServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    servicer.end.set()
    server.stop(0).wait(5)


def announce():
    return agent_pb2.Announce(worker_id="py-1", pid=42, capabilities=["threads"])


def run_in_thread(stream, address, metadata=()):
    got: "queue.Queue[bytes]" = queue.Queue()
    reason: list = []
    thread = threading.Thread(
        target=lambda: reason.append(stream.run(address, metadata, got.put)), daemon=True
    )
    thread.start()
    return got, reason, thread


def test_announce_first_then_answers_in_order_and_gateway_messages_as_bytes(served):
    servicer, address = served
    ask = agent_pb2.ConnectResponse(status_request=agent_pb2.StatusRequest(request_id="r1"))
    servicer.script = [ask]
    stream = GatewayStream(announce().SerializeToString(), lambda _text: None)
    got, reason, thread = run_in_thread(stream, address, [("authorization", "Bearer s3cret")])
    assert agent_pb2.ConnectResponse.FromString(got.get(timeout=10)) == ask
    for i in range(3):
        report = agent_pb2.StatusReport(request_id=f"r{i}", error="x" * (200_000 * i))
        stream.put(agent_pb2.ConnectRequest(status=report).SerializeToString())
    assert stream.wait_sent(10)
    first = servicer.received.get(timeout=10)
    assert first.WhichOneof("message") == "announce" and first.announce == announce()
    ids = [servicer.received.get(timeout=10).status.request_id for _ in range(3)]
    assert ids == ["r0", "r1", "r2"]
    assert servicer.metadata["authorization"] == "Bearer s3cret"
    assert stream.answered
    servicer.end.set()
    thread.join(10)
    assert reason == ["the gateway closed the stream"]


def test_a_refused_stream_says_why_in_grpcs_words(served):
    servicer, address = served
    servicer.abort_with = (grpc.StatusCode.UNAUTHENTICATED, "agent token wrong: ünknown")
    stream = GatewayStream(announce().SerializeToString(), lambda _text: None)
    _, reason, thread = run_in_thread(stream, address)
    thread.join(10)
    assert reason == ["UNAUTHENTICATED: agent token wrong: ünknown"]
    assert not stream.answered


def test_nobody_listening_ends_the_stream_at_once_with_the_reason():
    with __import__("socket").socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"  # bound, never listening: refused
        stream = GatewayStream(announce().SerializeToString(), lambda _text: None)
        _, reason, thread = run_in_thread(stream, address)
        thread.join(10)
    assert not thread.is_alive() and reason[0].startswith("UNAVAILABLE")


def test_a_full_outbox_drops_the_oldest_status_report_and_keeps_command_results():
    stream = GatewayStream(b"", lambda _text: None)
    result = agent_pb2.ConnectRequest(command_result=agent_pb2.CommandResult(command_id="c"))
    stream.put(result.SerializeToString())
    for i in range(MAX_QUEUED):
        status = agent_pb2.ConnectRequest(status=agent_pb2.StatusReport(request_id=f"s{i}"))
        stream.put(status.SerializeToString())
    queued = [agent_pb2.ConnectRequest.FromString(q) for q in stream._queue]
    assert stream.dropped == 1 and len(queued) == MAX_QUEUED
    assert queued[0].command_result.command_id == "c"
    assert queued[1].status.request_id == "s1"  # s0, the oldest status, went
    stream.close()
    stream.put(result.SerializeToString())
    assert not stream._queue
