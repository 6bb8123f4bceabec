"""The agent's gateway connection for its whole life: one AgentService.Connect
stream at a time, reconnected with exponential backoff and jitter, the agent
token sent as `authorization: Bearer`. Run by the helper process, or by the
worker itself when it runs without one (STALLWATCH_AGENT_HELPER=0).
"""

import random
import threading
import time
from typing import Callable, Optional

from .gateway_stream import GatewayStream

BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 15.0
#: A stream that lasted this long resets the backoff.
HEALTHY_AFTER_S = 10.0


def connect_forever(
    address: str,
    announce: bytes,
    token: Optional[str],
    on_stream: Callable[[GatewayStream], None],
    on_message: Callable[[bytes], None],
    say: Callable[[str], None],
    stopped: Optional[threading.Event] = None,
) -> None:
    """Connects, runs each stream to its end and reconnects, until `stopped` is set.

    `announce` is a serialized Announce; on_stream(stream) is called as each
    stream opens (answers, serialized ConnectRequests, go to stream.put);
    on_message(bytes) gets each serialized ConnectResponse, on the stream's thread.
    """
    stopped = stopped or threading.Event()
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    delay = BACKOFF_FIRST_S
    last_reason = None
    while not stopped.is_set():
        stream = GatewayStream(announce, say)
        on_stream(stream)
        started = time.monotonic()
        reason = stream.run(address, metadata, on_message)
        stream.close()
        if stopped.is_set():
            return
        if stream.answered:
            say(f"disconnected from {address}: {reason}")
        if time.monotonic() - started >= HEALTHY_AFTER_S:
            delay = BACKOFF_FIRST_S
        if reason != last_reason:
            say(
                f"gateway {address}: {reason}; retrying with backoff (logged again when it changes)"
            )
            last_reason = reason
        stopped.wait(delay * random.uniform(0.5, 1.0))
        delay = min(delay * 2, BACKOFF_MAX_S)
