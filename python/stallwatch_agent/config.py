"""What the agent needs to know, from start()'s arguments or the environment."""

import os
import re
import socket
import sys
import time

from stallwatch_proto import agent_pb2

from . import thread_cpu

#: What the gateway accepts as Announce.worker_id (gateway/agent-endpoint/agent-adopt.ts).
WORKER_ID = re.compile(r"^[\w.:@-]{1,128}$", re.ASCII)
VERSION = "0.1.0"
CAPABILITIES = ("sessions", "thread-dump", "cancel-session", "profile")
#: What only the helper process makes possible (it runs while the worker's GIL is held).
HELPER_CAPABILITIES = ("gil-watchdog", "kill-worker")


def helper_from_env(env=os.environ):
    """STALLWATCH_AGENT_HELPER: "0" (or false/no/off) runs the agent in-process only."""
    text = env.get("STALLWATCH_AGENT_HELPER", "").strip().lower()
    if text in ("", "1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"STALLWATCH_AGENT_HELPER={text!r}: use 1 (the default) or 0")


class ConfigError(ValueError):
    pass


def read_token(token=None, token_file=None, env=os.environ):
    """token, then token_file, then STALLWATCH_AGENT_TOKEN, then STALLWATCH_AGENT_TOKEN_FILE."""
    if token and token_file:
        raise ConfigError("give token or token_file, not both")
    if token:
        return token
    path = token_file or None
    if path is None and not env.get("STALLWATCH_AGENT_TOKEN"):
        path = env.get("STALLWATCH_AGENT_TOKEN_FILE") or None
    if path is None:
        return env.get("STALLWATCH_AGENT_TOKEN") or None
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(64 << 10).strip()
    except OSError as err:
        raise ConfigError(f"agent token file {path}: {err.strerror}") from err
    if not text:
        raise ConfigError(f"agent token file {path} is empty")
    return text


def check_address(text, what):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{what} {text!r} is not host:port")
    return text


class Config:
    def __init__(
        self,
        gateway,
        worker_id=None,
        manage_address="",
        token=None,
        gil_timeout_s=2.0,
        rearm_s=1.0,
        helper=True,
    ):
        self.gateway = check_address(gateway, "gateway address")
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}"
        if not WORKER_ID.match(self.worker_id):
            raise ConfigError(
                f"worker id {self.worker_id!r} must be 1-128 letters, digits or . _ : @ -"
            )
        self.manage_address = (
            check_address(manage_address, "manage address") if manage_address else ""
        )
        self.token = token
        if not 0.5 <= gil_timeout_s <= 60 or not 0.1 <= rearm_s < gil_timeout_s:
            raise ConfigError("need 0.5 <= gil_timeout_s <= 60 and 0.1 <= rearm_s < gil_timeout_s")
        self.gil_timeout_s = gil_timeout_s
        self.rearm_s = rearm_s
        self.started_at_ms = int(time.time() * 1000)
        #: False: no helper process; the worker holds the gateway stream itself.
        self.helper = helper

    def announce(self):
        v = sys.version_info
        return agent_pb2.Announce(
            worker_id=self.worker_id,
            manage_address=self.manage_address,
            pid=os.getpid(),
            host=socket.gethostname(),
            runtime=f"python {v.major}.{v.minor}.{v.micro} ({sys.implementation.name})",
            version=VERSION,
            started_at_ms=self.started_at_ms,
            capabilities=[
                *CAPABILITIES,
                *(("profile-cpu",) if thread_cpu.available() else ()),
                *(HELPER_CAPABILITIES if self.helper else ()),
            ],
        )
