"""The in-process sampler on real threads: a spin, a socket read nobody answers, refusals."""

import socket
import sys
import threading

from stallwatch_proto import agent_pb2

from .profiler import Profiler
from .sessions import SessionRegistry
from .testing.gateway import wait_for

WALL = agent_pb2.PROFILE_MODE_WALL
CPU = agent_pb2.PROFILE_MODE_CPU


def _spin_for_profile(stop):
    n = 0
    while not stop.is_set():
        n += 1


def _read_for_profile(sock):
    sock.recv_into(bytearray(1))  # the peer never writes (until the test ends)


class Workload:
    """A thread spinning in pure Python and one blocked in recv_into, until close()."""

    def __init__(self):
        self.stop = threading.Event()
        self.ours, self.theirs = socket.socketpair()
        self.spinner = threading.Thread(target=_spin_for_profile, args=(self.stop,), name="spin")
        self.reader = threading.Thread(target=_read_for_profile, args=(self.ours,), name="read")
        for t in (self.spinner, self.reader):
            t.daemon = True
            t.start()
        # Profiled from inside the read: a thread still starting up has CPU time to count.
        reader = self.reader.ident or 0
        wait_for(
            "the reader inside recv_into",
            lambda: getattr(sys._current_frames().get(reader), "f_code", None)
            is _read_for_profile.__code__,
        )

    def close(self):
        self.stop.set()
        self.theirs.send(b"x")
        self.spinner.join(5)
        self.reader.join(5)


def profile(profiler, mode, duration_ms, **filters):
    """Runs one profile; returns (interim results, final result)."""
    answers: list = []
    done = threading.Event()

    def reply(request):
        answers.append(request.profile_result)
        if not request.profile_result.interim:
            done.set()

    start = agent_pb2.StartProfile(mode=mode, duration_ms=duration_ms, **filters)
    profiler.start(agent_pb2.Command(command_id="p1", start_profile=start), reply)
    assert done.wait(duration_ms / 1000 + 20), "no final result"
    return answers[:-1], answers[-1]


def share(result, thread, frame_matches):
    """py-spy's %Total of frames matching `frame_matches(frame)` among the thread's kept samples."""
    kept = sum(s.count for s in thread.stacks)
    hits = sum(
        s.count for s in thread.stacks if any(frame_matches(result.frames[i]) for i in s.frames)
    )
    return hits / kept if kept else 0.0


def thread_named(result, name):
    return next(t for t in result.threads if t.name == name)


def test_cpu_mode_puts_the_spinning_function_on_top_and_says_the_blocked_reader_is_idle():
    work = Workload()
    try:
        _, result = profile(Profiler(SessionRegistry()), CPU, 1500)
    finally:
        work.close()
    assert not result.error and result.mode == CPU and "schedstat" in result.note
    assert "sys._current_frames" in result.sampler and result.cost_micros > 0
    spin = thread_named(result, "spin")
    assert share(result, spin, lambda f: f.function == "_spin_for_profile") >= 0.9
    spin_frame = next(f for f in result.frames if f.function == "_spin_for_profile")
    assert spin_frame.file.endswith("profiler_test.py") and spin_frame.line > 0
    read = thread_named(result, "read")
    assert read.samples_taken > 0 and not read.stacks
    assert read.note.startswith(f"idle: 0 of {read.samples_taken} samples on CPU")


def test_wall_mode_shows_the_blocked_read_at_the_top_of_its_thread_with_file_and_line():
    work = Workload()
    try:
        interim, result = profile(Profiler(SessionRegistry()), WALL, 2500)
    finally:
        work.close()
    read = thread_named(result, "read")
    assert read.samples_taken >= 50  # ~100 Hz, whatever the load leaves of it
    assert share(result, read, lambda f: f.function == "recv_into") >= 0.95
    leaf = read.stacks[0].frames[-1]
    caller = result.frames[read.stacks[0].frames[-2]]
    assert result.frames[leaf].function == "recv_into" and result.frames[leaf].file == ""
    assert caller.function == "_read_for_profile" and caller.file.endswith("profiler_test.py")
    assert sum(s.count for s in read.stacks) == read.samples_taken  # wall: every sample kept
    assert 5_000 <= result.interval_us <= 50_000
    # Interim results came first, cumulative, and the final one is not interim.
    assert interim and all(r.interim for r in interim) and not result.interim
    assert not any(t.name.startswith("stallwatch-agent") for t in result.threads)


def test_a_profile_of_one_session_samples_its_thread_only_and_ends_partial_with_it():
    registry = SessionRegistry()
    release = threading.Event()
    opened = threading.Event()
    holder = {}

    def udf():
        with registry.open("spin-udf") as session:
            holder["session"] = session
            opened.set()
            release.wait(30)

    t = threading.Thread(target=udf, name="udf", daemon=True)
    t.start()
    opened.wait(5)
    session = holder["session"]
    threading.Timer(1.0, release.set).start()
    _, result = profile(Profiler(registry), WALL, 10_000, session_id=session.session_id)
    assert [th.name for th in result.threads] == ["udf"]
    assert result.threads[0].session_id == session.session_id
    assert result.partial and result.partial_reason == f"session {session.session_id} ended"
    assert result.duration_ms < 9000


def test_refusals_come_at_once_as_errors():
    registry = SessionRegistry()
    profiler = Profiler(registry)
    errors = {}

    def ask(name, **fields):
        got: list = []
        start = agent_pb2.StartProfile(**fields)
        profiler.start(agent_pb2.Command(command_id=name, start_profile=start), got.append)
        errors[name] = got[0].profile_result.error if got else None

    ask("mode", mode=agent_pb2.PROFILE_MODE_UNSPECIFIED, duration_ms=1000)
    ask("long", mode=WALL, duration_ms=60_001)
    ask("session", mode=WALL, duration_ms=1000, session_id="nope")
    ask("thread", mode=WALL, duration_ms=1000, thread_id="12345")
    assert errors["mode"].startswith("unsupported profile mode 0")
    assert errors["long"] == "duration 60001 ms: give 1 to 60000 ms"
    assert errors["session"] == "no session nope on this worker"
    assert errors["thread"] == "no thread 12345 in this worker"

    answers: list = []
    first = agent_pb2.StartProfile(mode=WALL, duration_ms=1000)
    profiler.start(agent_pb2.Command(command_id="first", start_profile=first), answers.append)
    ask("second", mode=WALL, duration_ms=1000)
    assert errors["second"] == "a profile is already running"
    wait_for("the first profile's end", lambda: any(not a.profile_result.interim for a in answers))


def _first_wait(event):
    event.wait(30)


def _second_wait(event):
    event.wait(30)


def test_a_parked_thread_that_moves_mid_profile_is_counted_where_it_was_each_time():
    go_on, done = threading.Event(), threading.Event()

    def body():
        _first_wait(go_on)
        _second_wait(done)

    t = threading.Thread(target=body, name="mover", daemon=True)
    t.start()
    threading.Timer(0.7, go_on.set).start()
    try:
        _, result = profile(Profiler(SessionRegistry()), WALL, 1500, thread_id=str(t.ident))
    finally:
        go_on.set()
        done.set()
    [mover] = result.threads
    first = share(result, mover, lambda f: f.function == "_first_wait")
    second = share(result, mover, lambda f: f.function == "_second_wait")
    assert first > 0.1 and second > 0.1 and abs(first + second - 1) < 1e-9
    assert sum(s.count for s in mover.stacks) == mover.samples_taken
