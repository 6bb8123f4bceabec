"""Name resolution with a deadline: getaddrinfo has none of its own, and a
resolver that never answers must not hold the agent's connect loop forever.

The lookup runs on a daemon thread that the caller stops waiting for at the
deadline. A lookup still stuck is not started again (at most one resolver
thread at a time), so a dead resolver costs one thread, not one per retry.
Addresses that are already IP literals skip the thread altogether.
"""

import socket
import threading
from typing import List, Tuple

_busy = threading.Lock()  # held by the one resolver thread that may be running


class ResolveError(OSError):
    pass


def _literal(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except OSError:
            continue
    return False


def resolve(host: str, port: int, timeout_s: float) -> List[Tuple[int, tuple]]:
    """[(family, sockaddr)] for a TCP connection to host:port, within timeout_s."""
    if _literal(host):
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return [(family, addr) for family, _, _, _, addr in infos]
    if not _busy.acquire(blocking=False):
        raise ResolveError(f"resolving {host!r}: an earlier lookup is still stuck in the resolver")
    outcome: list = []
    done = threading.Event()

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as err:
            outcome.append(err)
        finally:
            done.set()
            _busy.release()

    try:
        threading.Thread(target=lookup, name="stallwatch-agent-h2-resolve", daemon=True).start()
    except BaseException:
        _busy.release()
        raise
    if not done.wait(timeout_s):
        raise ResolveError(f"resolving {host!r} took longer than {timeout_s:.1f} s")
    result = outcome[0]
    if isinstance(result, OSError):
        raise ResolveError(f"resolving {host!r}: {result}")
    return [(family, addr) for family, _, _, _, addr in result]
