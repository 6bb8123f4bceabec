"""One AgentService.Connect stream: Announce first, then a bounded outbox.

When the gateway stops reading, the oldest status report goes first (a
newer one replaces it); command results are kept over status reports.
"""

import collections
import threading
import time

import grpc

from stallwatch_proto import agent_pb2

from .contained import contained

MAX_QUEUED = 64


class GatewayStream:
    def __init__(self, announce, say):
        self._announce = announce
        self._say = say
        self._queue: collections.deque = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self.answered = False
        self.dropped = 0
        self._call = None

    def put(self, request):
        with self._cond:
            if self._closed:
                return
            if len(self._queue) >= MAX_QUEUED:
                self._drop_one()
            self._queue.append(request)
            self._cond.notify()

    def _drop_one(self):
        self.dropped += 1
        for i, queued in enumerate(self._queue):
            if queued.WhichOneof("message") == "status":
                del self._queue[i]
                return
        self._queue.popleft()

    def wait_sent(self, timeout_s):
        """Waits until grpcio took everything queued (True), or timeout_s passed."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._queue and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return not self._queue

    def close(self):
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()

    def abort(self):
        """Closes the stream and cancels the call at once (the agent is stopping)."""
        self.close()
        call = self._call
        if call is not None:
            contained("cancel the stream", call.cancel)

    def _requests(self):
        yield agent_pb2.ConnectRequest(announce=self._announce)
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait(1.0)
                if self._closed:
                    return
                batch = list(self._queue)
                self._queue.clear()
            yield from batch

    def run(self, stub, metadata, on_message):
        """Runs until the stream ends; returns why it ended."""
        call = None
        try:
            call = stub.Connect(self._requests(), metadata=metadata)
            self._call = call
            for message in call:
                if not self.answered:
                    self.answered = True
                    self._say("connected to the gateway")
                contained("relay a gateway message", lambda: on_message(message))
            return "the gateway closed the stream"
        except grpc.RpcError as err:
            code = err.code() if hasattr(err, "code") else None
            detail = err.details() if hasattr(err, "details") else str(err)
            return f"{code.name if code else 'error'}: {detail}"
        except Exception as err:  # noqa: BLE001 - reported, then we reconnect
            return f"{type(err).__name__}: {err}"
        finally:
            self.close()
            if call is not None:
                contained("cancel a finished stream", call.cancel)
