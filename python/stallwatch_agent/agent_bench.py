"""The Python agent's figures (run by bench/python-agent.bench.ts; printed, never asserted).

- dump of 200 Python threads (target < 20 ms): stacks.dump_threads over 200
  parked threads 12 frames deep plus a few of this process's own;
- agent CPU at the default status cadence (target < 1% of one core): two
  tiny_worker processes side by side for the same window against a real
  gateway at its defaults, one with the agent (worker + helper CPU), one
  without; 4 sessions stuck in a socket read in each;
- agent RSS (target < 20 MB): the same two workers' RSS, and the helper's RSS
  and USS (its private pages: the rest is shared libraries).
"""

import os
import statistics
import subprocess
import sys
import threading
import time

import grpc

from stallwatch_proto import udf_message_pb2 as m
from stallwatch_proto import udf_service_pb2_grpc

from . import stacks
from .sessions import SessionRegistry
from .testing.gateway import Gateway

WINDOW_S = float(os.environ.get("STALLWATCH_BENCH_WINDOW_S", "60"))
TICK = os.sysconf("SC_CLK_TCK")


def _park(depth, release):
    if depth == 0:
        release.wait(600)
    else:
        _park(depth - 1, release)


def bench_dump():
    release = threading.Event()
    threads = [
        threading.Thread(target=_park, args=(10, release), name=f"parked-{i}", daemon=True)
        for i in range(200)
    ]
    for t in threads:
        t.start()
    registry = SessionRegistry()
    try:
        stacks.dump_threads(registry)  # warm linecache, as a running agent has
        wall, cost = [], []
        for _ in range(50):
            t0 = time.perf_counter()
            dump = stacks.dump_threads(registry)
            wall.append((time.perf_counter() - t0) * 1000)
            cost.append(dump.cost_micros / 1000)
        n = len(dump.threads)
    finally:
        release.set()
    wall.sort()
    print(
        f"dump of {n} Python threads (12 frames each): median {statistics.median(wall):.2f} ms, "
        f"p95 {wall[int(len(wall) * 0.95)]:.2f} ms, max {wall[-1]:.2f} ms "
        f"(cost_micros reported to the gateway: median {statistics.median(cost):.2f} ms)"
    )


def _cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _memory_kb(pid):
    rss = uss = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, value = line.split(":", 1)
            kb = int(value.split()[0]) if value.split() else 0
            if key == "Rss":
                rss = kb
            elif key in ("Private_Clean", "Private_Dirty"):
                uss += kb
    return rss, uss


def _worker(gateway_address, worker_id):
    args = [sys.executable, "-m", "stallwatch_agent.testing.tiny_worker"]
    if gateway_address:
        args += ["--gateway", gateway_address, "--id", worker_id]
    python_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.Popen(
        args, stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=python_dir)
    )
    port = int(p.stdout.readline().split()[1])
    return p, port


def _stuck_sessions(port, n):
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = udf_service_pb2_grpc.UdfWorkerStub(channel)
    calls = []
    for i in range(n):
        init = m.Init(udf=m.UdfPayload(name="recv"), task_context={"partition": str(i)})

        def feed(init=init):
            yield m.UdfRequest(control=m.UdfControlRequest(init=init))
            yield m.UdfRequest(data=m.DataRequest(data=b"x"))
            time.sleep(WINDOW_S + 60)

        calls.append(stub.Execute(feed(), timeout=WINDOW_S + 60))
    return channel, calls


def _children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(x) for x in f.read().split()]


def bench_cpu_and_memory():
    gateway = Gateway()  # its defaults: the cadence a real fleet runs at
    plain, plain_port = _worker(None, "")
    agent, agent_port = _worker(gateway.grpc, "bench-python-agent")
    opened = [_stuck_sessions(plain_port, 4), _stuck_sessions(agent_port, 4)]
    try:
        time.sleep(5)  # connected, sessions open, first reports sent
        helper = _children(agent.pid)[0]
        pids = {"plain": [plain.pid], "agent": [agent.pid, helper]}
        before = {k: sum(_cpu_s(p) for p in v) for k, v in pids.items()}
        time.sleep(WINDOW_S)
        used = {k: sum(_cpu_s(p) for p in v) - before[k] for k, v in pids.items()}
        extra = (used["agent"] - used["plain"]) / WINDOW_S * 100
        print(
            f"agent CPU at the default status cadence over {WINDOW_S:.0f} s, 4 stuck sessions: "
            f"{extra:.2f}% of one core (worker+helper {used['agent'] / WINDOW_S * 100:.2f}%, "
            f"the same worker without agent {used['plain'] / WINDOW_S * 100:.2f}%)"
        )
        plain_rss, _ = _memory_kb(plain.pid)
        agent_rss, _ = _memory_kb(agent.pid)
        helper_rss, helper_uss = _memory_kb(helper)
        print(
            f"agent memory: in the worker +{(agent_rss - plain_rss) / 1024:.1f} MB RSS "
            f"({agent_rss / 1024:.1f} vs {plain_rss / 1024:.1f} MB); helper process "
            f"{helper_rss / 1024:.1f} MB RSS, {helper_uss / 1024:.1f} MB private (USS)"
        )
    finally:
        for channel, calls in opened:
            for c in calls:
                c.cancel()
            channel.close()
        for p in (plain, agent):
            p.terminate()
            p.wait(10)
        gateway.stop()


if __name__ == "__main__":
    bench_dump()
    bench_cpu_and_memory()
