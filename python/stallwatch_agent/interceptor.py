"""A grpcio server interceptor that tracks every UdfWorker.Execute stream as a session.

The servicer is untouched: its request iterator and response iterator are
wrapped, so the session's state follows the messages (Init → INITIALIZING,
waiting for the next request → WAITING_FOR_INPUT, Data → PROCESSING,
Finish → FINISHING, Cancel → CANCELLING), its progress counts the batches
and bytes each way (rows come from the FinishResponse's metrics: batches are
opaque bytes here), and its thread is the grpcio handler thread that runs
the servicer. Any error of the tracking itself is logged once and never
reaches the stream.
"""

import threading

import grpc

from stallwatch_proto import agent_pb2

from .contained import contained
from .sessions import REGISTRY, SessionCancelled

EXECUTE = "/org.apache.spark.udf.worker.UdfWorker/Execute"

S = agent_pb2.SessionState
O = agent_pb2.SessionOutcome


class ExecuteInterceptor(grpc.ServerInterceptor):
    def __init__(self, registry=REGISTRY):
        self._registry = registry

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if (
            handler is None
            or handler_call_details.method != EXECUTE
            or not (handler.request_streaming and handler.response_streaming)
        ):
            return handler
        behavior = handler.stream_stream
        registry = self._registry

        def tracked(request_iterator, context):
            return _track(registry, behavior, request_iterator, context)

        return grpc.stream_stream_rpc_method_handler(
            tracked,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class _Ending:
    """What the responses said about how the session ends."""

    def __init__(self):
        self.outcome = None
        self.error = ""
        self.metrics = None


def _track(registry, behavior, requests, context):
    session = contained("open a session", lambda: registry.open())
    if session is None:
        yield from behavior(requests, context)
        return
    session.bind_thread(threading.current_thread())
    ending = _Ending()
    try:
        for response in behavior(_observe_requests(session, requests), context):
            contained("count a response", lambda: _observe_response(session, response, ending))
            # While grpcio sends this response the thread runs grpcio's code, where an async
            # SessionCancelled would escape our handling: cancel waits for the flag to drop.
            session.yielding = True
            yield response
            session.yielding = False
    except SessionCancelled as cancelled:
        session.end(O.SESSION_OUTCOME_CANCELLED, str(cancelled) or "cancelled", ending.metrics)
        context.abort(grpc.StatusCode.CANCELLED, f"cancelled through Stallwatch: {cancelled}")
    except BaseException as err:
        session.end(O.SESSION_OUTCOME_FAILED, f"{type(err).__name__}: {err}", ending.metrics)
        raise
    else:
        session.end(ending.outcome, ending.error, ending.metrics)


def _observe_requests(session, requests):
    while True:
        # Raised only on the session's own thread: a worker that reads the stream from a
        # helper thread of its own sees the flag through cancelled() instead.
        if threading.current_thread() is session.thread:
            session.check_cancelled()
        contained("mark waiting", lambda: session.enter(S.SESSION_STATE_WAITING_FOR_INPUT))
        try:
            request = next(requests)
        except StopIteration:
            return
        contained("count a request", lambda: _observe_request(session, request))
        yield request


def _observe_request(session, request):
    which = request.WhichOneof("request")
    if which == "data":
        session.progress(batches_in=1, bytes_in=len(request.data.data))
        session.enter(S.SESSION_STATE_PROCESSING)
        return
    if which != "control":
        return
    control = request.control
    kind = control.WhichOneof("control")
    if kind == "init":
        init = control.init
        session.set_udf(init.udf.name or init.udf.eval_type or "", init.udf.format)
        session.set_task_context(dict(init.task_context))
        session.enter(S.SESSION_STATE_INITIALIZING)
    elif kind == "payload":
        session.enter(S.SESSION_STATE_INITIALIZING)
    elif kind == "finish":
        session.enter(S.SESSION_STATE_FINISHING)
    elif kind == "cancel":
        session.enter(S.SESSION_STATE_CANCELLING)


def _observe_response(session, response, ending):
    which = response.WhichOneof("response")
    if which == "data":
        session.progress(batches_out=1, bytes_out=len(response.data.data))
        return
    if which != "control":
        return
    control = response.control
    kind = control.WhichOneof("control")
    if kind == "finish":
        _take_metrics(session, control.finish, ending)
        if control.finish.HasField("error"):
            ending.outcome = O.SESSION_OUTCOME_FAILED
            ending.error = _error_text(control.finish.error)
    elif kind == "cancel":
        _take_metrics(session, control.cancel, ending)
        ending.outcome = O.SESSION_OUTCOME_CANCELLED
    elif kind == "error":
        ending.outcome = O.SESSION_OUTCOME_FAILED
        ending.error = _error_text(control.error.error)
    elif kind == "init" and control.init.HasField("error"):
        ending.outcome = O.SESSION_OUTCOME_FAILED
        ending.error = _error_text(control.init.error)


def _take_metrics(session, message, ending):
    if not message.HasField("metrics"):
        return
    ending.metrics = message.metrics
    m = message.metrics
    with session._lock:
        grew = {}
        for name in ("rows_in", "rows_out"):
            if getattr(m, name) > session.counters[name]:
                grew[name] = getattr(m, name) - session.counters[name]
        session.progress(**grew)


def _error_text(error):
    kind = error.WhichOneof("kind")
    if kind is None:
        return "error"
    return f"{kind} error: {getattr(error, kind).message}"
