"""The agent's helper process: `python -m stallwatch_agent.helper` (started by the agent).

It holds the worker's one AgentService.Connect stream to the gateway:
Announce first, then every request relayed to the worker (relay.py);
reconnects with exponential backoff and jitter; sends the agent token as
`authorization: Bearer`. It reads faulthandler's watchdog output from a pipe
and answers in the worker's place while the GIL is held.

It imports neither grpcio nor protobuf (the agent's memory budget, README
"What the agent costs"): the stream is h2grpc's, and messages stay bytes,
read and written by pbwire where the helper needs a field.

It dies with its worker: at end of file on the worker's socket, when its
parent changes, or on the worker's STOP. SIGINT is ignored (a Ctrl-C to the
process group is for the worker; the helper follows it out), SIGTERM ends it.
"""

import argparse
import json
import os
import select
import signal
import socket
import sys
import threading
import time

from . import agent_fields as f
from . import killer, pbwire, wire
from .connect_loop import connect_forever
from .relay import Relay

#: faulthandler's output is complete once the pipe has been quiet this long.
FAULT_QUIET_S = 0.1
#: After a kill, how long the helper stays to send its result before it exits.
KILL_REPORT_S = 3.0


class Kill:
    """A kill in progress: the worker's end is then expected, and the helper
    outlives it until the result is on its way to the gateway."""

    def __init__(self):
        self.running = threading.Event()
        self.done = threading.Event()
        self.stream = None  # the current GatewayStream, to wait for the result to leave


KILL = Kill()


def exit_with_worker():
    """The worker is gone: exit, unless a kill of ours is still reporting it."""
    if KILL.running.is_set():
        KILL.done.wait(killer.MAX_GRACE_S + killer.AFTER_KILL_S + KILL_REPORT_S + 5)
    os._exit(0)


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
    announce = first[1]  # a serialized Announce, sent as is
    send_lock = threading.Lock()

    def to_worker(message):
        frame = wire.encode(wire.RESPONSE, message)
        with send_lock:
            sock.sendall(frame)

    def on_kill(command):
        if KILL.running.is_set():
            return  # one at a time: the first one's result answers for the worker
        KILL.running.set()
        threading.Thread(
            target=_kill, args=(command, args.worker_pid, relay), name="kill", daemon=True
        ).start()

    relay = Relay(to_worker, args.gil_timeout_s, args.worker_pid, on_kill=on_kill)
    for name, target, extra in (
        ("worker", _read_worker, (sock, relay)),
        ("fault", _read_faults, (args.fault_fd, relay)),
        ("tick", _tick, (args.worker_pid, relay)),
    ):
        threading.Thread(target=target, args=extra, name=name, daemon=True).start()
    token = os.environ.get("STALLWATCH_AGENT_TOKEN") or None

    def on_stream(stream):
        KILL.stream = stream
        relay.connected(stream.put)

    connect_forever(args.gateway, announce, token, on_stream, relay.from_gateway, say)
    return 0


def _read_worker(sock, relay):
    try:
        while True:
            frame = wire.read_frame(sock)
            if frame is None or frame[0] == wire.STOP:
                break
            kind, payload = frame
            if kind == wire.REQUEST:
                relay.from_worker(payload)
            elif kind == wire.SESSIONS:
                relay.sessions_seen(payload)
            elif kind == wire.ALIVE:
                names = json.loads(payload) if payload else None
                if relay.alive(names):
                    say("the worker runs Python again: GIL released")
    except Exception as err:  # noqa: BLE001 - any break means the worker is gone
        say(f"worker link broke: {err}")
    exit_with_worker()


def _kill(command, worker_pid, relay):
    """Carries out a kill_worker command (a Command's bytes) and reports it; exits once the
    worker is gone."""
    try:
        started = time.monotonic()
        kill_worker = pbwire.last(command, f.Command.KILL_WORKER, b"")
        assert isinstance(kill_worker, bytes)
        grace_s = killer.grace_of(kill_worker)
        why = relay.why_stuck()
        reason = pbwire.text(kill_worker, f.KillWorker.REASON)
        say(f"kill_worker ({reason}): SIGTERM to {worker_pid}, then SIGKILL")
        outcome, message = killer.end_process(
            worker_pid, grace_s, why, alive=lambda: os.getppid() == worker_pid
        )
        say(message)
        result = (
            pbwire.string_field(
                f.CommandResult.COMMAND_ID, pbwire.text(command, f.Command.COMMAND_ID)
            )
            + pbwire.uint_field(f.CommandResult.OUTCOME, outcome)
            + pbwire.string_field(f.CommandResult.MESSAGE, message)
            + pbwire.uint_field(f.CommandResult.TOOK_MS, round((time.monotonic() - started) * 1000))
        )
        relay.answer(pbwire.bytes_field(f.ConnectRequest.COMMAND_RESULT, result))
        stream = KILL.stream
        if stream is not None:
            stream.wait_sent(KILL_REPORT_S)
        # Written to the socket; a moment for the gateway to read it before the process (and the
        # socket) goes: a close with unread data in our receive buffer would reset the stream.
        time.sleep(0.5)
    finally:
        KILL.done.set()
    if os.getppid() != worker_pid:
        os._exit(0)
    KILL.running.clear()
    KILL.done.clear()


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
            exit_with_worker()
        relay.tick()


if __name__ == "__main__":
    sys.exit(main())
