"""The agent's helper process: `python -m stallwatch_agent.helper` (started by the agent).

It holds the worker's one AgentService.Connect stream to the gateway:
Announce first, then every request relayed to the worker (relay.py);
reconnects with exponential backoff and jitter; sends the agent token as
`authorization: Bearer`. It reads faulthandler's watchdog output from a pipe
and answers in the worker's place while the GIL is held.

It dies with its worker: at end of file on the worker's socket, when its
parent changes, or on the worker's STOP. SIGINT is ignored (a Ctrl-C to the
process group is for the worker; the helper follows it out), SIGTERM ends it.
"""

import argparse
import json
import os
import random
import select
import signal
import socket
import sys
import threading
import time

from stallwatch_proto import agent_pb2, agent_pb2_grpc

from . import wire
from .gateway_stream import GatewayStream
from .relay import Relay

BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 15.0
#: A stream that lasted this long resets the backoff.
HEALTHY_AFTER_S = 10.0
#: faulthandler's output is complete once the pipe has been quiet this long.
FAULT_QUIET_S = 0.1


def say(message):
    sys.stderr.write(f"stallwatch-agent-helper[{os.getpid()}]: {message}\n")
    sys.stderr.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="stallwatch_agent.helper")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--fault-fd", type=int, required=True)
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--worker-pid", type=int, required=True)
    parser.add_argument("--gil-timeout-s", type=float, default=2.0)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    sock = socket.socket(fileno=args.fd)
    sock.settimeout(10)
    first = wire.read_frame(sock)
    if first is None or first[0] != wire.ANNOUNCE:
        say("no Announce from the worker; exiting")
        return 2
    sock.settimeout(None)
    announce = agent_pb2.Announce.FromString(first[1])
    send_lock = threading.Lock()

    def to_worker(message):
        frame = wire.encode(wire.RESPONSE, message.SerializeToString())
        with send_lock:
            sock.sendall(frame)

    relay = Relay(to_worker, args.gil_timeout_s, args.worker_pid)
    for name, target, extra in (
        ("worker", _read_worker, (sock, relay)),
        ("fault", _read_faults, (args.fault_fd, relay)),
        ("tick", _tick, (args.worker_pid, relay)),
    ):
        threading.Thread(target=target, args=extra, name=name, daemon=True).start()
    token = os.environ.get("STALLWATCH_AGENT_TOKEN") or None
    _connect_forever(args.gateway, announce, token, relay)
    return 0


def _read_worker(sock, relay):
    try:
        while True:
            frame = wire.read_frame(sock)
            if frame is None or frame[0] == wire.STOP:
                break
            kind, payload = frame
            if kind == wire.REQUEST:
                relay.from_worker(agent_pb2.ConnectRequest.FromString(payload))
            elif kind == wire.SESSIONS:
                relay.sessions_seen(agent_pb2.StatusReport.FromString(payload).sessions)
            elif kind == wire.ALIVE:
                names = json.loads(payload) if payload else None
                if relay.alive(names):
                    say("the worker runs Python again: GIL released")
    except Exception as err:  # noqa: BLE001 - any break means the worker is gone
        say(f"worker link broke: {err}")
    os._exit(0)


def _read_faults(fd, relay):
    """Collects each burst faulthandler writes; a burst is one dump of every thread."""
    buf = bytearray()
    while True:
        ready, _, _ = select.select([fd], [], [], FAULT_QUIET_S if buf else None)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            if len(buf) < (1 << 20):
                buf += chunk
            continue
        text = buf.decode("utf-8", "replace")
        buf.clear()
        say("no Python thread of the worker has run for the GIL timeout: GIL held")
        relay.gil_held(text)


def _tick(worker_pid, relay):
    while True:
        time.sleep(0.2)
        if os.getppid() != worker_pid:
            os._exit(0)
        relay.tick()


def _connect_forever(address, announce, token, relay):
    import grpc

    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    delay = BACKOFF_FIRST_S
    last_reason = None
    channel = grpc.insecure_channel(
        address,
        options=[
            ("grpc.max_receive_message_length", 4 << 20),
            ("grpc.max_send_message_length", 4 << 20),
            ("grpc.enable_retries", 0),
            ("grpc.keepalive_time_ms", 30_000),
        ],
    )
    stub = agent_pb2_grpc.AgentServiceStub(channel)
    while True:
        stream = GatewayStream(announce, say)
        relay.connected(stream.put)
        started = time.monotonic()
        reason = stream.run(stub, metadata, relay.from_gateway)
        stream.close()
        if stream.answered:
            say(f"disconnected from {address}: {reason}")
        if time.monotonic() - started >= HEALTHY_AFTER_S:
            delay = BACKOFF_FIRST_S
        if reason != last_reason:
            say(
                f"gateway {address}: {reason}; retrying with backoff (logged again when it changes)"
            )
            last_reason = reason
        time.sleep(delay * random.uniform(0.5, 1.0))
        delay = min(delay * 2, BACKOFF_MAX_S)


if __name__ == "__main__":
    sys.exit(main())
