"""The lifecycle registry: init once, teardown after every unit of work, shutdown once."""

from __future__ import annotations

import gc
import logging
import weakref

import pytest

from common.lifecycle import Lifecycle, settle_for_serving


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
