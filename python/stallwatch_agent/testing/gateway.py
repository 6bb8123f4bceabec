"""A real Stallwatch gateway for Python integration tests: the built CLI
(`node bin/stallwatch.js gateway`, built by `npm run build:server`) on
ports chosen by the kernel, called as the dashboard calls it (Connect
JSON over HTTP/1.1 on its --http port).
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import urllib.error
import urllib.request

from google.protobuf import json_format

from stallwatch_proto import fleet_pb2

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CLI = os.path.join(REPO, "bin", "stallwatch.js")
OPERATOR_TOKEN = "python-test-operator"


class Gateway:
    """A gateway process; stop() ends it (SIGTERM, then SIGKILL)."""

    def __init__(self, extra_args=(), start_timeout_s=30.0, grpc_address="127.0.0.1:0"):
        if not os.path.exists(os.path.join(REPO, "dist", "server", "main.js")):
            raise RuntimeError("the gateway is not built: run `npm run build:server`")
        self._dir = tempfile.mkdtemp(prefix="stallwatch-pytest-")
        env = dict(os.environ, STALLWATCH_DB=os.path.join(self._dir, "db"), LOG_LEVEL="info")
        args = ["node", CLI, "gateway", "--http", "127.0.0.1:0", "--grpc", grpc_address]
        args += ["--operator-token", OPERATOR_TOKEN, *extra_args]
        self.process = subprocess.Popen(
            args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.logs: list = []
        self._listening = threading.Event()
        threading.Thread(target=self._read_logs, daemon=True).start()
        if not self._listening.wait(start_timeout_s) or not hasattr(self, "grpc"):
            self.stop()
            raise RuntimeError(
                f"gateway did not listen within {start_timeout_s} s: {self.logs[-20:]}"
            )

    def _read_logs(self):
        assert self.process.stdout is not None  # piped
        for line in self.process.stdout:
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {"msg": line.rstrip()}
            self.logs.append(entry)
            if entry.get("msg") == "listening" and "grpc" in entry and "http" in entry:
                self.grpc = str(entry["grpc"])
                self.http = str(entry["http"])
                self._listening.set()
        self._listening.set()  # ended before listening: fail at once, not after the timeout

    def call(self, method, request, response_type, operator=False):
        """One unary dashboard call, e.g. call("FleetService/GetWorker", ...)."""
        body = json_format.MessageToJson(request).encode()
        headers = {"Content-Type": "application/json", "Connect-Protocol-Version": "1"}
        if operator:
            headers["Authorization"] = f"Bearer {OPERATOR_TOKEN}"
        url = f"http://{self.http}/stallwatch.v1.{method}"
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(req, timeout=10) as answer:
            return json_format.Parse(answer.read(), response_type(), ignore_unknown_fields=True)

    def worker(self, worker_id):
        """The worker's detail, or None while the gateway does not know it."""
        try:
            response = self.call(
                "FleetService/GetWorker",
                fleet_pb2.GetWorkerRequest(worker_id=worker_id),
                fleet_pb2.GetWorkerResponse,
            )
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise
        return response.detail

    def stop(self):
        stop_process(self.process)
        shutil.rmtree(self._dir, ignore_errors=True)


def stop_process(process):
    """SIGTERM, then SIGKILL after 10 s; returns once it is gone."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_for(what, predicate, timeout_s=15.0, every_s=0.1):
    """Polls predicate() until it returns something truthy; fails naming `what`."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")
