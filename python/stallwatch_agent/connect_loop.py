"""The agent's gateway connection for its whole life: one AgentService.Connect
stream at a time, reconnected with exponential backoff and jitter, the agent
token sent as `authorization: Bearer`. Run by the helper process, or by the
worker itself when it runs without one (STALLWATCH_AGENT_HELPER=0).
"""

import random
import threading
import time
from typing import Any, Callable, Optional

from .gateway_stream import GatewayStream

BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 15.0
#: A stream that lasted this long resets the backoff.
HEALTHY_AFTER_S = 10.0


def connect_forever(
    address: str,
    announce: Any,
    token: Optional[str],
    on_stream: Callable[[GatewayStream], None],
    on_message: Callable[[Any], None],
    say: Callable[[str], None],
    stopped: Optional[threading.Event] = None,
) -> None:
    """Connects, runs each stream to its end and reconnects, until `stopped` is set.

    on_stream(stream) is called as each stream opens (answers go to stream.put);
    on_message(ConnectResponse) for each gateway message, on grpcio's thread.
    """
    import grpc

    from stallwatch_proto import agent_pb2_grpc

    stopped = stopped or threading.Event()
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
    try:
        while not stopped.is_set():
            stream = GatewayStream(announce, say)
            on_stream(stream)
            started = time.monotonic()
            reason = stream.run(stub, metadata, on_message)
            stream.close()
            if stopped.is_set():
                return
            if stream.answered:
                say(f"disconnected from {address}: {reason}")
            if time.monotonic() - started >= HEALTHY_AFTER_S:
                delay = BACKOFF_FIRST_S
            if reason != last_reason:
                say(
                    f"gateway {address}: {reason}; retrying with backoff "
                    "(logged again when it changes)"
                )
                last_reason = reason
            stopped.wait(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, BACKOFF_MAX_S)
    finally:
        channel.close()
