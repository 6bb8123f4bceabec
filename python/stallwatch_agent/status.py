"""Answers to the gateway's requests, built in the worker: StatusReport and CommandResult.

Never raises: whatever part cannot be had is left out and named in `error`,
the rest is still reported (the TS agent's contract, agent-client.ts).
"""

import time

from stallwatch_proto import agent_pb2

from . import cancel, stacks

#: Finished sessions sent at most, whatever the gateway asks for.
MAX_FINISHED = 100
#: Largest encoded report: the gateway refuses messages over 4 MiB by failing the stream.
MAX_REPORT_BYTES = 3 << 20
FRAMES_WHEN_CUT = 32
#: Grace for a cancel that names none (proto3 cannot tell unset from 0).
DEFAULT_GRACE_MS = 2000
#: Grace asked at most: the gateway waits grace + 10 s for the answer.
MAX_GRACE_MS = 60_000


def _message(err):
    return f"{type(err).__name__}: {err}"[:2000]


def status_report(registry, request, into=None):
    """The answer to one StatusRequest; `into` (a StatusReport field of a message
    being built) is filled in place, saving a copy of the whole dump."""
    report = agent_pb2.StatusReport() if into is None else into
    report.request_id = request.request_id
    errors = []
    if request.include_threads:
        try:
            stacks.dump_threads(registry, into=report.dump)
        except Exception as err:  # noqa: BLE001 - named in the report
            report.ClearField("dump")
            errors.append(f"thread dump failed: {_message(err)}")
    try:
        report.sessions.extend(registry.sessions())
    except Exception as err:  # noqa: BLE001
        errors.append(f"sessions unavailable: {_message(err)}")
    try:
        report.finished.extend(registry.finished(min(request.max_finished, MAX_FINISHED)))
    except Exception as err:  # noqa: BLE001
        errors.append(f"finished sessions unavailable: {_message(err)}")
    cut = fit_report(report, MAX_REPORT_BYTES)
    if cut:
        errors.append(cut)
    report.error = "; ".join(errors)
    return report


def fit_report(report, max_bytes):
    """Shrinks report in place to max_bytes: stacks, then the dump, then finished, then sessions."""
    original = report.ByteSize()
    if original <= max_bytes:
        return None
    cuts = []
    if report.HasField("dump"):
        for t in report.dump.threads:
            if len(t.frames) > FRAMES_WHEN_CUT:
                more = len(t.frames) - FRAMES_WHEN_CUT
                del t.frames[FRAMES_WHEN_CUT:]
                t.frames.append(f"… {more} more frames cut to fit the report size cap")
        cuts.append(f"stacks cut to {FRAMES_WHEN_CUT} frames")
        if report.ByteSize() > max_bytes:
            report.ClearField("dump")
            cuts.append("thread dump left out")
    if report.ByteSize() > max_bytes and len(report.finished) > 0:
        del report.finished[:]
        cuts.append("finished sessions left out")
    live = len(report.sessions)
    while len(report.sessions) > 0 and report.ByteSize() > max_bytes:
        del report.sessions[len(report.sessions) // 2 :]
    if len(report.sessions) < live:
        cuts.append(f"{live - len(report.sessions)} of {live} sessions left out")
    return f"report of {original} bytes over the {max_bytes}-byte cap: {', '.join(cuts)}"


def command_result(registry, command):
    started = time.monotonic()
    result = agent_pb2.CommandResult(command_id=command.command_id)
    try:
        outcome, message = _carry_out(registry, command)
    except Exception as err:  # noqa: BLE001 - a failed command is an answer, not a crash
        outcome, message = agent_pb2.COMMAND_OUTCOME_FAILED, _message(err)
    result.outcome = outcome
    result.message = message[:10_000]
    result.took_ms = max(0, round((time.monotonic() - started) * 1000))
    return result


def _carry_out(registry, command):
    kind = command.WhichOneof("kind")
    if kind != "cancel_session":
        return (
            agent_pb2.COMMAND_OUTCOME_FAILED,
            f"unsupported command{f' {kind}' if kind else ''}: this worker understands cancel_session",
        )
    c = command.cancel_session
    if c.session_id == "":
        return agent_pb2.COMMAND_OUTCOME_FAILED, "cancel_session needs a session_id"
    grace_ms = min(c.grace_ms or DEFAULT_GRACE_MS, MAX_GRACE_MS)
    return cancel.cancel_session(
        registry, c.session_id, c.reason, grace_ms / 1000, innermost=stacks.innermost
    )
