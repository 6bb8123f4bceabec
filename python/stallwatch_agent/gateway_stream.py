"""One AgentService.Connect stream: Announce first, then a bounded outbox.

Messages are serialized agent-protocol messages (bytes) both ways, carried by
h2grpc (a small gRPC client on the standard library): the helper process,
which holds this stream, then imports neither grpcio nor protobuf (README,
"What the agent costs"). When the gateway stops reading, the oldest status
report goes first (a newer one replaces it); command results are kept over
status reports. Every wait is bounded: a send blocked by flow control for
SEND_TIMEOUT_S ends the stream, and the reconnect loop opens a new one.
"""

import collections
import threading
import time
from typing import Callable, Optional

from .agent_fields import ConnectRequest
from .contained import contained
from .h2grpc.client import BidiCall, CallError, open_bidi_stream
from .pbwire import bytes_field

METHOD = "/stallwatch.v1.AgentService/Connect"
MAX_QUEUED = 64
#: The gateway's own cap on an agent message; a bigger status report is its error, not ours.
MAX_MESSAGE_BYTES = 4 << 20
CONNECT_TIMEOUT_S = 5.0
SEND_TIMEOUT_S = 10.0
KEEPALIVE_S = 30.0
#: The first byte of a serialized ConnectRequest whose `status` is set (field 2, bytes).
_STATUS_KEY = ConnectRequest.STATUS << 3 | 2


class GatewayStream:
    def __init__(self, announce: bytes, say: Callable[[str], None]):
        self._announce = announce  # a serialized Announce
        self._say = say
        self._queue: collections.deque = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self._sending = False
        self.answered = False
        self.dropped = 0
        self._call: Optional[BidiCall] = None

    def put(self, request: bytes) -> None:
        """Queues a serialized ConnectRequest; dropped once the stream is closed."""
        with self._cond:
            if self._closed:
                return
            if len(self._queue) >= MAX_QUEUED:
                self._drop_one()
            self._queue.append(request)
            self._cond.notify_all()

    def _drop_one(self):
        self.dropped += 1
        for i, queued in enumerate(self._queue):
            if queued[:1] == bytes([_STATUS_KEY]):
                del self._queue[i]
                return
        self._queue.popleft()

    def wait_sent(self, timeout_s: float) -> bool:
        """Waits until everything queued is written to the socket (True), or timeout_s passed."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while (self._queue or self._sending) and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return not self._queue and not self._sending

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()

    def abort(self) -> None:
        """Closes the stream and cancels the call at once (the agent is stopping)."""
        self.close()
        call = self._call
        if call is not None:
            contained("cancel the stream", call.cancel)

    def _send_loop(self, call: BidiCall, failed: list) -> None:
        try:
            call.send(bytes_field(ConnectRequest.ANNOUNCE, self._announce), SEND_TIMEOUT_S)
            while True:
                with self._cond:
                    while not self._queue and not self._closed:
                        self._cond.wait(1.0)
                    if self._closed:
                        return
                    request = self._queue.popleft()
                    self._sending = True
                try:
                    call.send(request, SEND_TIMEOUT_S)
                finally:
                    with self._cond:
                        self._sending = False
                        self._cond.notify_all()
        except CallError as err:
            failed.append(str(err))  # "CODE_NAME: message"
            call.cancel()
        except Exception as err:  # noqa: BLE001 - reported, then we reconnect
            failed.append(f"{type(err).__name__}: {err}")
            call.cancel()

    def run(self, address: str, metadata, on_message: Callable[[bytes], None]) -> str:
        """Runs until the stream ends; returns why it ended."""
        call = None
        failed: list = []
        try:
            call = open_bidi_stream(
                address,
                METHOD,
                metadata,
                connect_timeout_s=CONNECT_TIMEOUT_S,
                max_receive_bytes=MAX_MESSAGE_BYTES,
                max_send_bytes=MAX_MESSAGE_BYTES,
                keepalive_s=KEEPALIVE_S,
            )
            self._call = call
            sender = threading.Thread(
                target=self._send_loop,
                args=(call, failed),
                name="stallwatch-agent-sender",
                daemon=True,
            )
            sender.start()
            while True:
                try:
                    message = call.receive(timeout_s=1.0)
                except TimeoutError:
                    if self._closed:
                        return "the agent closed the stream"
                    continue
                if message is None:
                    return "the gateway closed the stream"
                if not self.answered:
                    self.answered = True
                    self._say("connected to the gateway")
                contained("relay a gateway message", lambda: on_message(message))
        except CallError as err:
            return failed[0] if failed else str(err)
        except Exception as err:  # noqa: BLE001 - reported, then we reconnect
            return f"{type(err).__name__}: {err}"
        finally:
            self.close()
            if call is not None:
                contained("cancel a finished stream", call.cancel)
