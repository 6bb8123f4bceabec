"""Python stubs generated from proto/ by `npm run generate` (never edit gen/).

protoc writes modules that import each other by their proto package
(`from org.apache.spark.udf.worker import udf_message_pb2`), so gen/ must be
an import root. Importing this package puts it on sys.path once, then
re-exports the modules the agent and the worker use.
"""

import os
import sys

_GEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen")
if _GEN not in sys.path:
    sys.path.append(_GEN)

from org.apache.spark.udf.worker import common_pb2  # noqa: E402
from org.apache.spark.udf.worker import udf_message_pb2  # noqa: E402
from org.apache.spark.udf.worker import udf_service_pb2  # noqa: E402
from org.apache.spark.udf.worker import udf_service_pb2_grpc  # noqa: E402
from stallwatch.v1 import agent_pb2  # noqa: E402
from stallwatch.v1 import agent_pb2_grpc  # noqa: E402
from stallwatch.v1 import control_pb2  # noqa: E402
from stallwatch.v1 import fleet_pb2  # noqa: E402

__all__ = [
    "agent_pb2",
    "agent_pb2_grpc",
    "common_pb2",
    "control_pb2",
    "fleet_pb2",
    "udf_message_pb2",
    "udf_service_pb2",
    "udf_service_pb2_grpc",
]
