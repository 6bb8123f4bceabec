"""The wire messages the worker reads and writes, and short builders for its answers.

Every module of the worker imports the generated stubs from here, so their location
(``stallwatch_proto``, owned by the agent package's tooling) is named once.
"""

from __future__ import annotations

from typing import Optional

from stallwatch_proto import common_pb2
from stallwatch_proto import udf_message_pb2 as pb
from stallwatch_proto import udf_service_pb2_grpc

service = udf_service_pb2_grpc
ARROW = common_pb2.ARROW


def kind_of(request: pb.UdfRequest) -> str:
    """``init``, ``payload``, ``finish``, ``cancel``, ``data`` or ``empty`` (no oneof branch set)."""
    which = request.WhichOneof("request")
    if which == "data":
        return "data"
    if which == "control":
        return request.control.WhichOneof("control") or "empty"
    return "empty"


def _control(**branch: object) -> pb.UdfResponse:
    return pb.UdfResponse(control=pb.UdfControlResponse(**branch))


def init_response(error: Optional[pb.ExecutionError] = None) -> pb.UdfResponse:
    return _control(init=pb.InitResponse(error=error) if error else pb.InitResponse())


def data_response(data: bytes) -> pb.UdfResponse:
    return pb.UdfResponse(data=pb.DataResponse(data=data))


def error_response(error: pb.ExecutionError) -> pb.UdfResponse:
    return _control(error=pb.ErrorResponse(error=error))


def finish_response(
    metrics: pb.ExecutionMetrics,
    data: Optional[bytes] = None,
    error: Optional[pb.ExecutionError] = None,
) -> pb.UdfResponse:
    finish = pb.FinishResponse(metrics=metrics)
    if data is not None:
        finish.data = data
    if error is not None:
        finish.error.CopyFrom(error)
    return _control(finish=finish)


def cancel_response(metrics: pb.ExecutionMetrics) -> pb.UdfResponse:
    return _control(cancel=pb.CancelResponse(metrics=metrics))


def user_error(message: str, traceback: str, error_class: str) -> pb.ExecutionError:
    return pb.ExecutionError(
        user=pb.UserError(message=message, traceback=traceback, error_class=error_class)
    )


def worker_error(message: str) -> pb.ExecutionError:
    return pb.ExecutionError(worker=pb.WorkerError(message=message))


def protocol_error(message: str) -> pb.ExecutionError:
    return pb.ExecutionError(protocol=pb.ProtocolError(message=message))


def describe_error(error: pb.ExecutionError) -> str:
    kind = error.WhichOneof("kind")
    return getattr(error, kind).message if kind else "unknown error"
