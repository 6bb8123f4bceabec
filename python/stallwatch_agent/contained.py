"""The agent never harms its worker: its own errors are caught and logged once per place."""

import logging

log = logging.getLogger("stallwatch_agent")

_reported = set()


def contained(what, fn, default=None):
    """Runs fn(); on an Exception logs it (the first time for `what`) and returns default."""
    try:
        return fn()
    except Exception:  # noqa: BLE001 - containing is the point
        if what not in _reported:
            _reported.add(what)
            log.exception("stallwatch agent: could not %s (logged once; the worker goes on)", what)
        return default
