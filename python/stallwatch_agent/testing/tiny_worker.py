"""A minimal grpcio UdfWorker that adopts the agent in three lines, for the agent's own tests.

`python -m stallwatch_agent.testing.tiny_worker [--gateway H:P] [--id ID]`
prints `listening <port>` once it serves. The UDF is chosen by Init's
udf.name; each one is a way real UDF code gets stuck:

- echo: answers each batch with itself.
- recv: blocks in a socket read nobody answers (the seed's recv_into).
- spin: a pure-Python loop that never looks at the cancel flag.
- spin-coop: a pure-Python loop that checks stallwatch_agent.check_cancelled().
- gil: a catastrophic regular expression: C code holding the GIL for minutes.
- sleep: a select() in C (ignores the cancel flag and the async exception).

This is no reference worker (python/stallwatch_worker/ is): it only serves
what the agent's tests drive, and answers Finish with the counts.
"""

import argparse
import concurrent.futures
import os
import re
import select
import signal
import socket
import sys
import threading
import time

import grpc

import stallwatch_agent
from stallwatch_proto import udf_message_pb2 as m
from stallwatch_proto import udf_service_pb2_grpc


def _gil_hold():
    # Exponential backtracking inside re's C engine, which never releases the GIL.
    return re.match(r"(a|aa)+$", "a" * 64 + "b")


class _Release:
    """What ends the UDFs started since the last release_all()."""

    def __init__(self):
        self.event = threading.Event()
        self.read_end, self.write_end = os.pipe()
        self.sockets = []


# In-process tests end stuck UDFs with release_all(): grpcio's pool threads are joined at
# interpreter exit, so a UDF stuck for good would hang pytest's exit.
_current = _Release()


def release_all():
    global _current
    old, _current = _current, _Release()
    old.event.set()
    os.write(old.write_end, b"x")
    for peer in old.sockets:
        peer.send(b"x")


def _run(name, batch):
    release = _current
    if name == "recv":
        ours, theirs = socket.socketpair()
        release.sockets.append(theirs)
        ours.recv_into(bytearray(1))  # nobody writes (until release_all)
    elif name == "spin":
        n = 0
        while not release.event.is_set():
            n += 1
    elif name == "spin-coop":
        while not release.event.is_set():
            stallwatch_agent.check_cancelled()
            sum(range(1000))
    elif name == "gil":
        _gil_hold()
    elif name == "sleep":
        select.select([release.read_end], [], [], 3600)  # in C: no bytecode runs until it returns
    return batch


class TinyWorker(udf_service_pb2_grpc.UdfWorkerServicer):
    def Execute(self, request_iterator, context):
        name = ""
        rows = 0
        for request in request_iterator:
            which = request.WhichOneof("request")
            if which == "data":
                out = _run(name, request.data.data)
                rows += 1
                yield m.UdfResponse(data=m.DataResponse(data=out))
                continue
            control = request.control.WhichOneof("control")
            if control == "init":
                name = request.control.init.udf.name
                yield m.UdfResponse(control=m.UdfControlResponse(init=m.InitResponse()))
            elif control == "finish":
                metrics = m.ExecutionMetrics(rows_in=rows, rows_out=rows)
                finish = m.FinishResponse(metrics=metrics)
                yield m.UdfResponse(control=m.UdfControlResponse(finish=finish))
                return

    def Manage(self, request, context):
        return m.WorkerResponse(heartbeat=m.HeartbeatResponse())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tiny_worker")
    parser.add_argument("--gateway")
    parser.add_argument("--id")
    parser.add_argument("--token-file")
    args = parser.parse_args(argv)
    pool = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="udf")
    # Adoption, line 1 of 3: every Execute stream becomes a session.
    server = grpc.server(pool, interceptors=[stallwatch_agent.interceptor()])
    udf_service_pb2_grpc.add_UdfWorkerServicer_to_server(TinyWorker(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    if args.gateway:
        # Line 2 of 3: the agent (never blocks; a gateway that is down is retried).
        stallwatch_agent.start(
            gateway=args.gateway,
            worker_id=args.id,
            manage_address=f"127.0.0.1:{port}",
            token_file=args.token_file,
        )
    print(f"listening {port}", flush=True)
    # A plain flag, not a threading.Event: the handler runs on the main thread
    # between bytecodes, possibly while that thread holds the Event's lock
    # inside wait(), and Event.set() would then wait for itself forever (the
    # deadlock the reference worker had, stallwatch_worker/cli.py).
    signals: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: signals.append(signum))
    while not signals:
        time.sleep(0.2)
    stallwatch_agent.stop()
    server.stop(0.5).wait(2)
    # UDF threads stuck for good (recv, gil, sleep) would keep the interpreter from exiting.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
