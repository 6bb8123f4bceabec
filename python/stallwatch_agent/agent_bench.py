"""The Python agent's figures (run by bench/python-agent.bench.ts; printed, never asserted).

- dump of 200 Python threads (target < 20 ms): stacks.dump_threads over 200
  parked threads 12 frames deep plus a few of this process's own;
- agent CPU at the default status cadence (target < 1% of one core): two
  tiny_worker processes side by side for the same window against a real
  gateway at its defaults, one with the agent (worker + helper CPU), one
  without; 4 sessions stuck in a socket read in each;
- sampling overhead at 100 Hz (target <= 3% of one core): a whole-worker
  profile through the gateway, wall-clock then CPU mode, the worker's and
  helper's CPU during it less their rate without one;
- agent memory (target < 20 MB): the worker's growth (RSS, agent vs. no
  agent) plus the helper's whole RSS, every page it maps counted in full
  (the helper imports neither grpcio nor protobuf, so little of it is shared).
  Also printed: the helper's PSS and USS, and a worker running the agent
  without its helper.
"""

import os
import statistics
import subprocess
import sys
import threading
import time
import uuid

import grpc

from stallwatch_proto import udf_message_pb2 as m
from stallwatch_proto import udf_service_pb2_grpc

from stallwatch_proto import agent_pb2, control_pb2, profile_pb2

from . import stacks, status
from .profiler import Profiler
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
    request = agent_pb2.StatusRequest(request_id="bench", include_threads=True, max_finished=100)

    def answer():
        # What the agent does for a status request with threads: build, then serialize.
        reply = agent_pb2.ConnectRequest()
        status.status_report(registry, request, into=reply.status)
        return reply.SerializeToString()

    try:
        stacks.dump_threads(registry)  # warm linecache, as a running agent has
        wall, answers, cpu = [], [], []
        for _ in range(100):
            t0, c0 = time.perf_counter(), time.thread_time()
            dump = stacks.dump_threads(registry)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
            t0 = time.perf_counter()
            size = len(answer())
            answers.append((time.perf_counter() - t0) * 1000)
        n = len(dump.threads)
        for mode in (agent_pb2.PROFILE_MODE_WALL, agent_pb2.PROFILE_MODE_CPU):
            _bench_sampler_in_process(registry, mode, n)
    finally:
        release.set()

    def spread(values):
        values = sorted(values)
        return (
            f"p50 {statistics.median(values):.2f} ms, p95 {values[int(len(values) * 0.95)]:.2f} ms, "
            f"max {values[-1]:.2f} ms"
        )

    print(f"dump of {n} Python threads (12 frames each), wall: {spread(wall)}; CPU: {spread(cpu)}")
    print(
        f"the whole status answer with that dump (report built and serialized, {size >> 10} KiB): "
        f"{spread(answers)}"
    )


def _bench_sampler_in_process(registry, mode, n):
    """The sampler over this process's parked threads: its own thread's CPU per second."""
    done = threading.Event()
    final = []

    def reply(request):
        if not request.profile_result.interim:
            final.append(request.profile_result)
            done.set()

    start = agent_pb2.StartProfile(mode=mode, duration_ms=5000)
    Profiler(registry).start(agent_pb2.Command(command_id="bench", start_profile=start), reply)
    if not done.wait(30) or final[0].error:
        print(f"sampler over {n} threads: no result ({final and final[0].error})")
        return
    r = final[0]
    name = "CPU" if mode == agent_pb2.PROFILE_MODE_CPU else "wall-clock"
    print(
        f"sampler over {n} parked Python threads, {name} mode, {1e6 / r.interval_us:.0f} Hz for "
        f"{r.duration_ms / 1000:.0f} s: {r.cost_micros / 10 / r.duration_ms:.2f}% of one core "
        "(its thread's CPU time)"
    )


def _cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _memory_mb(pid):
    """{"rss", "pss", "uss"} in MB, from /proc/PID/smaps_rollup."""
    out = {"rss": 0.0, "pss": 0.0, "uss": 0.0}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, value = line.split(":", 1)
            kb = int(value.split()[0]) if value.split() else 0
            if key == "Rss":
                out["rss"] = kb / 1024
            elif key == "Pss":
                out["pss"] = kb / 1024
            elif key in ("Private_Clean", "Private_Dirty"):
                out["uss"] += kb / 1024
    return out


def _worker(gateway_address, worker_id, env=None):
    args = [sys.executable, "-m", "stallwatch_agent.testing.tiny_worker"]
    if gateway_address:
        args += ["--gateway", gateway_address, "--id", worker_id]
    python_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=python_dir, **(env or {})),
    )
    assert p.stdout is not None  # piped
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


PROFILE_S = float(os.environ.get("STALLWATCH_BENCH_PROFILE_S", "20"))


def _bench_profile(gateway, worker_id, pids, mode, idle_rate):
    """A whole-worker profile at the default ~100 Hz: the worker's (and helper's) CPU during it,
    less what they use without one (idle_rate, CPU seconds per second)."""
    profile_id = f"bench-{uuid.uuid4().hex[:12]}"
    before = sum(_cpu_s(p) for p in pids)
    started = time.monotonic()
    gateway.call(
        "ProfileService/StartProfile",
        profile_pb2.StartProfileRequest(
            profile_id=profile_id,
            worker_id=worker_id,
            mode=mode,
            duration_ms=int(PROFILE_S * 1000),
            reason="bench",
        ),
        profile_pb2.StartProfileResponse,
        operator=True,
    )
    deadline = started + PROFILE_S + 30
    profile = None
    while time.monotonic() < deadline:
        time.sleep(0.25)
        profile = gateway.call(
            "ProfileService/GetProfile",
            profile_pb2.GetProfileRequest(profile_id=profile_id),
            profile_pb2.GetProfileResponse,
        ).profile
        if profile.status != control_pb2.ACTION_STATUS_RUNNING:
            break
    window = time.monotonic() - started
    used = sum(_cpu_s(p) for p in pids) - before
    if profile is None or profile.status != control_pb2.ACTION_STATUS_SUCCEEDED:
        print(f"sampling overhead: the profile did not succeed ({profile and profile.error})")
        return
    result = profile.result
    overhead = (used - idle_rate * window) / window * 100
    name = "CPU" if mode == agent_pb2.PROFILE_MODE_CPU else "wall-clock"
    samples = sum(t.samples_taken for t in result.threads)
    print(
        f"sampling overhead, {name} mode, {len(result.threads)} threads at "
        f"{1e6 / result.interval_us:.0f} Hz for {result.duration_ms / 1000:.0f} s: "
        f"{overhead:.2f}% of one core (worker + helper CPU over the window, less their idle "
        f"rate); the sampler's own thread {result.cost_micros / 1e6 / window * 100:.2f}% "
        f"(cost_micros); {samples} thread samples"
    )


def bench_cpu_and_memory():
    gateway = Gateway()  # its defaults: the cadence a real fleet runs at
    plain, plain_port = _worker(None, "")
    agent, agent_port = _worker(gateway.grpc, "bench-python-agent")
    alone, alone_port = _worker(
        gateway.grpc, "bench-python-agent-no-helper", {"STALLWATCH_AGENT_HELPER": "0"}
    )
    opened = [_stuck_sessions(port, 4) for port in (plain_port, agent_port, alone_port)]
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
        bare, worker, helped = _memory_mb(plain.pid), _memory_mb(agent.pid), _memory_mb(helper)
        in_process = _memory_mb(alone.pid)
        grown = worker["rss"] - bare["rss"]
        print(
            f"agent memory: {grown + helped['rss']:.1f} MB = the worker's growth {grown:+.1f} MB "
            f"RSS ({worker['rss']:.1f} vs {bare['rss']:.1f} MB without the agent) + the helper "
            f"process's whole RSS {helped['rss']:.1f} MB"
        )
        print(
            f"the helper process alone: RSS {helped['rss']:.1f} MB, PSS {helped['pss']:.1f} MB, "
            f"USS {helped['uss']:.1f} MB (private pages)"
        )
        print(
            f"the agent without its helper (STALLWATCH_AGENT_HELPER=0): the worker "
            f"{in_process['rss'] - bare['rss']:+.1f} MB RSS ({in_process['rss']:.1f} MB)"
        )
        idle_rate = used["agent"] / WINDOW_S
        for mode in (agent_pb2.PROFILE_MODE_WALL, agent_pb2.PROFILE_MODE_CPU):
            _bench_profile(gateway, "bench-python-agent", pids["agent"], mode, idle_rate)
    finally:
        for channel, calls in opened:
            for c in calls:
                c.cancel()
            channel.close()
        for p in (plain, agent, alone):
            p.terminate()
            p.wait(10)
        gateway.stop()


if __name__ == "__main__":
    bench_dump()
    bench_cpu_and_memory()
