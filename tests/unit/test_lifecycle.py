"""The lifecycle registry: init once, teardown after every unit of work, shutdown once."""

from __future__ import annotations

import gc
import logging
import os
import signal
import time
import weakref

import pytest

from common.lifecycle import Lifecycle, StopSignals, settle_for_serving


def test_init_hooks_run_once_and_late_hooks_run_at_once() -> None:
    calls: list[str] = []
    lifecycle = Lifecycle()
    lifecycle.on_init(lambda: calls.append("first"))
    lifecycle.initialize()
    lifecycle.initialize()
    lifecycle.on_init(lambda: calls.append("late"))
    assert calls == ["first", "late"]
    assert lifecycle.initialized


def test_teardown_runs_even_when_the_unit_of_work_fails() -> None:
    calls: list[str] = []
    lifecycle = Lifecycle()
    lifecycle.on_teardown(lambda: calls.append("cleanup"))
    with pytest.raises(RuntimeError), lifecycle.unit_of_work():
        raise RuntimeError("boom")
    with lifecycle.unit_of_work():
        pass
    assert calls == ["cleanup", "cleanup"]


def test_a_failing_hook_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []
    lifecycle = Lifecycle()

    def broken() -> None:
        raise OSError("disk gone")

    lifecycle.on_teardown(broken)
    lifecycle.on_teardown(lambda: calls.append("teardown"))
    lifecycle.on_shutdown(lambda: calls.append("shutdown-1"))
    lifecycle.on_shutdown(broken)
    lifecycle.on_shutdown(lambda: calls.append("shutdown-2"))
    with caplog.at_level(logging.ERROR):
        lifecycle.teardown()
        lifecycle.shutdown()
        lifecycle.shutdown()
    assert calls == ["teardown", "shutdown-2", "shutdown-1"]
    assert sum("broken" in record.getMessage() for record in caplog.records) == 2


def test_settling_for_serving_when_asked_collects_once_and_freezes_what_is_left() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self  # a cycle: only the collector frees it

    gc.collect()
    kept, garbage = Node(), weakref.ref(Node())
    assert garbage() is not None
    try:
        settle_for_serving(freeze_heap=False)
        assert garbage() is not None  # off: nothing collected
        assert gc.get_freeze_count() == 0
        settle_for_serving(freeze_heap=True)
        assert garbage() is None  # collected first
        assert gc.get_freeze_count() > 0
        assert all(kept not in gc.get_objects(generation) for generation in (0, 1, 2))
        later = weakref.ref(Node())
        gc.collect()
        assert later() is None  # what comes after is collected as before
    finally:
        gc.unfreeze()


def test_a_stop_signal_ends_the_wait_whenever_it_comes() -> None:
    """A handler that took a lock (``threading.Event.set``) hung about one wait in a hundred:
    the signal came while the waiting main thread held that lock. Each child here waits with a
    short poll and gets SIGTERM at a different moment; every one of them must exit."""
    for attempt in range(300):
        reader, writer = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - the child process
            stopping = StopSignals()
            stopping.install()
            os.write(writer, b"waiting")
            while not stopping.wait(0.0001):  # the shape of a server's wait loop, tighter
                pass
            os._exit(0)
        os.close(writer)
        os.read(reader, 7)
        os.close(reader)
        time.sleep((attempt % 10) / 1000)
        os.kill(child, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not (done := os.waitpid(child, os.WNOHANG))[0] and time.monotonic() < deadline:
            time.sleep(0.005)
        if not done[0]:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            pytest.fail(f"the waiting process ignored SIGTERM (attempt {attempt})")
        assert os.waitstatus_to_exitcode(done[1]) == 0


def test_the_wait_for_a_stop_signal_gives_up_after_its_timeout() -> None:
    stopping = StopSignals(poll=0.01)
    started = time.monotonic()
    assert not stopping.wait(0.05)
    assert time.monotonic() - started >= 0.05
    assert not stopping.is_set()
