"""Python stubs generated from proto/ by `npm run generate` (never edit gen/).

protoc writes modules that import each other by their proto package
(`from org.apache.spark.udf.worker import udf_message_pb2`), so gen/ must be
an import root. Importing this package puts it on sys.path once, then
re-exports the modules the agent and the worker use, each loaded when first used.
"""

import os
import sys
from typing import TYPE_CHECKING

_GEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen")
if _GEN not in sys.path:
    sys.path.append(_GEN)

#: Where each re-exported module lives. They are imported on first use
#: (PEP 562): the agent's helper process needs only agent_pb2, and every
#: descriptor loaded costs private memory in each process that loads it.
_MODULES = {
    "agent_pb2": "stallwatch.v1.agent_pb2",
    "agent_pb2_grpc": "stallwatch.v1.agent_pb2_grpc",
    "common_pb2": "org.apache.spark.udf.worker.common_pb2",
    "control_pb2": "stallwatch.v1.control_pb2",
    "fleet_pb2": "stallwatch.v1.fleet_pb2",
    "profile_pb2": "stallwatch.v1.profile_pb2",
    "udf_message_pb2": "org.apache.spark.udf.worker.udf_message_pb2",
    "udf_service_pb2": "org.apache.spark.udf.worker.udf_service_pb2",
    "udf_service_pb2_grpc": "org.apache.spark.udf.worker.udf_service_pb2_grpc",
}


if TYPE_CHECKING:
    # For mypy only: the generated modules, untyped (Any) but still modules, so
    # `udf_message_pb2.UdfRequest` is a valid annotation.
    from org.apache.spark.udf.worker import common_pb2 as common_pb2
    from org.apache.spark.udf.worker import udf_message_pb2 as udf_message_pb2
    from org.apache.spark.udf.worker import udf_service_pb2 as udf_service_pb2
    from org.apache.spark.udf.worker import udf_service_pb2_grpc as udf_service_pb2_grpc
    from stallwatch.v1 import agent_pb2 as agent_pb2
    from stallwatch.v1 import agent_pb2_grpc as agent_pb2_grpc
    from stallwatch.v1 import control_pb2 as control_pb2
    from stallwatch.v1 import fleet_pb2 as fleet_pb2
    from stallwatch.v1 import profile_pb2 as profile_pb2


def __getattr__(name):
    target = _MODULES.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module = importlib.import_module(target)
    globals()[name] = module
    return module


__all__ = [
    "agent_pb2",
    "agent_pb2_grpc",
    "common_pb2",
    "control_pb2",
    "fleet_pb2",
    "profile_pb2",
    "udf_message_pb2",
    "udf_service_pb2",
    "udf_service_pb2_grpc",
]
