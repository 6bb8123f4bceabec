"""Thread dumps from sys._current_frames(): every thread, file:line and source, idle classes."""

import queue
import selectors
import socket
import threading

from . import stacks
from .sessions import SessionRegistry
from .testing.gateway import wait_for


def _thread(target, name):
    t = threading.Thread(target=target, name=name, daemon=True)
    t.start()
    return t


def _by_name(dump):
    return {t.name: t for t in dump.threads}


def test_every_thread_with_file_line_function_and_source_and_the_right_idle_class():
    stop = threading.Event()
    q: queue.Queue = queue.Queue()
    ours, theirs = socket.socketpair()
    sel = selectors.DefaultSelector()
    sel.register(ours, selectors.EVENT_READ)
    started = [
        _thread(lambda: stop.wait(30), "waits-on-event"),
        _thread(lambda: q.get(timeout=30), "waits-on-queue"),
        _thread(lambda: sel.select(30), "waits-in-select"),
        _thread(lambda: ours.recv_into(bytearray(1)), "stuck-in-recv"),
    ]
    try:

        def all_parked():
            names = _by_name(stacks.dump_threads(SessionRegistry()))
            return (
                names
                if all(
                    t.name in names
                    and names[t.name].frames
                    and "run (" not in names[t.name].frames[0]
                    for t in started
                )
                else None
            )

        names = wait_for("the threads to park", all_parked)
        assert names["waits-on-event"].state == "idle"
        assert names["waits-on-queue"].state == "idle"
        assert names["waits-in-select"].state == "idle"
        # A socket read is what a stuck session looks like: never idle.
        recv = names["stuck-in-recv"]
        assert recv.state == "running"
        assert recv.frames[0].startswith("<lambda> (")
        assert "stacks_test.py:" in recv.frames[0]
        assert recv.frames[0].endswith(
            '— _thread(lambda: ours.recv_into(bytearray(1)), "stuck-in-recv"),'
        )
        assert names["MainThread"].frames[0].startswith("dump_threads (")
        assert recv.thread_id == str(started[3].ident)
    finally:
        stop.set()
        q.put(None)
        theirs.send(b"x")
        theirs.close()
        for t in started:
            t.join(5)
        sel.close()
        ours.close()


def test_the_sessions_thread_is_linked_and_the_cost_is_measured():
    registry = SessionRegistry()
    release = threading.Event()
    seen = {}

    def udf():
        with registry.open("linked") as s:
            seen["id"] = s.session_id
            release.wait(30)

    t = _thread(udf, "udf-linked")
    try:
        wait_for("the session", lambda: seen.get("id"))
        dump = stacks.dump_threads(registry)
        linked = [th for th in dump.threads if th.session_id]
        assert [(th.name, th.session_id) for th in linked] == [("udf-linked", seen["id"])]
        assert dump.cost_micros > 0 and dump.taken_at_ms > 0
    finally:
        release.set()
        t.join(5)


def test_the_frame_format_and_idle_rules_match_the_gateways():
    assert stacks.format_frame("f", "/a/b.py", 3, "x = 1") == "f (/a/b.py:3) — x = 1"
    assert stacks.frame_idle("/usr/lib/python3.11/threading.py", "wait", "")
    assert stacks.frame_idle("/x/grpc/_server.py", "_serve", "")
    assert stacks.frame_idle("/my/udf.py", "loop", "time.sleep(1)")
    assert not stacks.frame_idle("/usr/lib/python3.11/socket.py", "recv_into", "")


def _first_stop(release):
    release.wait(30)


def _second_stop(release):
    release.wait(30)


def test_a_thread_that_moved_between_dumps_shows_where_it_is_now_not_a_cached_stack():
    go_on, done = threading.Event(), threading.Event()

    def body():
        _first_stop(go_on)
        _second_stop(done)

    _thread(body, "moves")
    try:

        def at(where):
            dump = stacks.dump_threads(SessionRegistry())
            frames = _by_name(dump)["moves"].frames
            return any(where in f for f in frames) and dump

        wait_for("the thread at line A", lambda: at("_first_stop ("))
        stacks.dump_threads(SessionRegistry())  # cached now
        go_on.set()
        dump = wait_for("the thread at line B", lambda: at("_second_stop ("))
        assert not any("_first_stop (" in f for f in _by_name(dump)["moves"].frames)
    finally:
        go_on.set()
        done.set()
