"""The Python reference UDF worker: Spark's ``UdfWorker`` (``Execute`` and ``Manage``) on grpcio.

Run it with ``PYTHONPATH=python /usr/bin/python3 -m stallwatch_worker --listen 127.0.0.1:0``.
Batches stay opaque bytes (Debian ships no pyarrow): the demo UDFs echo, count or ignore them.
"""

VERSION = "0.1.0"
