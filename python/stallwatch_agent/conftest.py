"""Fixtures: a real grpcio UdfWorker (tiny_worker's servicer) behind the agent's
interceptor, on a kernel-chosen loopback port, with its own session registry."""

import concurrent.futures
import queue

import grpc
import pytest

from stallwatch_proto import udf_message_pb2 as m
from stallwatch_proto import udf_service_pb2_grpc

from .interceptor import ExecuteInterceptor
from .sessions import SessionRegistry
from .testing.tiny_worker import TinyWorker, release_all


class Engine:
    """Drives Execute streams as Spark's engine would: Init, then batches on demand."""

    def __init__(self, stub):
        self._stub = stub
        self._calls = []

    def open(self, udf, task_context=None):
        requests: queue.Queue = queue.Queue()
        init = m.Init(udf=m.UdfPayload(name=udf, format="test"), task_context=task_context or {})
        requests.put(m.UdfRequest(control=m.UdfControlRequest(init=init)))

        def feed():
            while True:
                r = requests.get(timeout=60)
                if r is None:
                    return
                yield r

        call = self._stub.Execute(feed(), timeout=60)
        self._calls.append((call, requests))
        return call, requests

    @staticmethod
    def batch(requests, data=b"abc"):
        requests.put(m.UdfRequest(data=m.DataRequest(data=data)))

    @staticmethod
    def finish(requests):
        requests.put(m.UdfRequest(control=m.UdfControlRequest(finish=m.Finish())))
        requests.put(None)

    def close(self):
        for call, requests in self._calls:
            requests.put(None)
            call.cancel()


@pytest.fixture
def registry():
    return SessionRegistry()


@pytest.fixture
def worker(registry):
    pool = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="udf")
    server = grpc.server(pool, interceptors=[ExecuteInterceptor(registry)])
    udf_service_pb2_grpc.add_UdfWorkerServicer_to_server(TinyWorker(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    engine = Engine(udf_service_pb2_grpc.UdfWorkerStub(channel))
    yield engine
    release_all()
    engine.close()
    channel.close()
    server.stop(0)
    pool.shutdown(wait=False)
