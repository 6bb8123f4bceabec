"""The helper imports this package instead of grpcio: importing it must pull in neither grpcio,
protobuf nor ssl (issue 21's RSS budget), in a fresh interpreter."""

import pathlib
import subprocess
import sys

PYTHON_DIR = pathlib.Path(__file__).resolve().parents[2]  # the repository's python/


def test_import_pulls_in_no_grpc_protobuf_or_ssl():
    code = (
        "import sys, stallwatch_agent.h2grpc.client\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('grpc', 'ssl', '_ssl')"
        " or m.startswith('google.protobuf')]\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        ["/usr/bin/python3" if pathlib.Path("/usr/bin/python3").exists() else sys.executable]
        + ["-c", code],
        env={"PYTHONPATH": str(PYTHON_DIR), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
