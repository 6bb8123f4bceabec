"""How a Python frame reads in a dump, and which frames are waits for work.

Shared by the worker's dumps (stacks.py) and the helper process's dumps from
faulthandler (faultdump.py); kept free of protobuf and grpcio so the helper
imports neither. The idle list mirrors the gateway's PYTHON_IDLE_FRAMES
(server/gateway/beam-text/idle-frames.ts). A socket read is
deliberately NOT idle: that is what a stuck session looks like.
"""

# (file suffix, function, source prefix, why); None matches anything.
IDLE_FRAMES = (
    ("threading.py", "wait", None, "Condition.wait / Event.wait"),
    ("threading.py", "_wait_for_tstate_lock", None, "Thread.join"),
    ("queue.py", "get", None, "queue.get"),
    ("concurrent/futures/thread.py", "_worker", None, "an idle executor thread"),
    ("selectors.py", "select", None, "an event loop's select"),
    ("grpc/_channel.py", "channel_spin", None, "gRPC's channel spin thread"),
    ("grpc/_server.py", "_serve", None, "gRPC's server loop"),
    (None, None, "time.sleep(", "a sleep loop"),
    (None, None, "waiter.acquire()", "Condition.wait"),
)

#: Names of the agent's own threads: busy answering us, never a suspect.
AGENT_THREAD_PREFIX = "stallwatch-agent"


def frame_idle(file, fn, source):
    for suffix, name, prefix, _why in IDLE_FRAMES:
        if suffix is not None and not file.endswith(suffix):
            continue
        if name is not None and fn != name:
            continue
        if prefix is not None and not source.startswith(prefix):
            continue
        return True
    return False


def format_frame(fn, file, line, source):
    return f"{fn} ({file}:{line})" + (f" — {source}" if source else "")
