"""The lifecycle registry: hooks at initialization, after every unit of work, and at shutdown.

A *unit of work* is one request, RPC, worker task or CLI command. Every entry point wraps
its unit of work in :meth:`Lifecycle.unit_of_work` (a context manager), so
the teardown hooks (such as removing the database session) run after it **even when it
failed**. REST calls them from Flask's ``teardown_appcontext``, gRPC from an interceptor's
``finally``, workers and commands through the context manager itself.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType

__all__ = ["Hook", "Lifecycle", "StopSignals", "settle_for_serving"]

logger = logging.getLogger(__name__)

Hook = Callable[[], None]


class Lifecycle:
    """Ordered hooks for one service process; initialization runs them once."""

    def __init__(self) -> None:
        self._init_hooks: list[Hook] = []
        self._teardown_hooks: list[Hook] = []
        self._shutdown_hooks: list[Hook] = []
        self._lock = threading.Lock()
        self._initialized = False
        self._shut_down = False

    # -- registration ---------------------------------------------------------------------
    def on_init(self, hook: Hook) -> Hook:
        """Run ``hook`` once, at :meth:`initialize` (immediately if that already happened)."""
        with self._lock:
            self._init_hooks.append(hook)
            run_now = self._initialized
        if run_now:
            hook()
        return hook

    def on_teardown(self, hook: Hook) -> Hook:
        """Run ``hook`` after every unit of work, whether it succeeded or not."""
        self._teardown_hooks.append(hook)
        return hook

    def on_shutdown(self, hook: Hook) -> Hook:
        """Run ``hook`` at :meth:`shutdown`, in the reverse order of registration."""
        self._shutdown_hooks.append(hook)
        return hook

    # -- phases ---------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return self._initialized

    def initialize(self) -> None:
        """Run the init hooks; later calls do nothing."""
        with self._lock:
            if self._initialized:
                return
            hooks = list(self._init_hooks)
            self._initialized = True
        for hook in hooks:
            hook()

    def teardown(self) -> None:
        """Run every teardown hook; one failing hook does not stop the others."""
        for hook in self._teardown_hooks:
            try:
                hook()
            except Exception:
                logger.exception("teardown hook %s failed", _name(hook))

    def shutdown(self) -> None:
        """Run the shutdown hooks once, last registered first."""
        with self._lock:
            if self._shut_down:
                return
            self._shut_down = True
        for hook in reversed(self._shutdown_hooks):
            try:
                hook()
            except Exception:
                logger.exception("shutdown hook %s failed", _name(hook))

    # -- the unit-of-work wrapper -----------------------------------------------------------
    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """Wrap one request, RPC, task or command; teardown hooks run in ``finally``."""
        self.initialize()
        try:
            yield
        finally:
            self.teardown()


def _name(hook: Hook) -> str:
    return getattr(hook, "__qualname__", repr(hook))


def settle_for_serving(freeze_heap: bool) -> None:
    """Call once a server process is built and about to serve; with ``freeze_heap`` (the
    opt-in ``GC_FREEZE_AFTER_STARTUP``), the heap it has now stays.

    What start-up made (modules, settings, the engine, routes, handlers) lives as long as the
    process, yet each full pass of the garbage collector goes over all of it again while the
    requests of the process wait. Collected once here, then frozen (:func:`gc.freeze`), it is
    left out of later passes; what requests make is collected as before. What it changes is
    measured side by side in docs/benchmarks.md (``invoke bench.serve --versus``).
    """
    if freeze_heap:
        gc.collect()
        gc.freeze()


class StopSignals:
    """SIGTERM and SIGINT, noted by a handler that takes no lock, for a process to wait on.

    Python runs a signal handler in the main thread between two bytecodes, which may be inside
    ``threading.Event.wait`` while it holds the event's lock: a handler calling ``Event.set``
    there waits for that lock for ever, and the process ignores every later signal. The handler
    here only assigns an attribute; :meth:`wait` looks at it every ``poll`` seconds.
    """

    def __init__(self, poll: float = 0.1) -> None:
        self.received: int | None = None
        self._poll = poll

    def install(self) -> None:
        """Handle SIGTERM and SIGINT from now on (call it in the main thread)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._note)

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum

    def is_set(self) -> bool:
        return self.received is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Whether a stop signal came, once it has or ``timeout`` seconds have passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.received is None:
            left = self._poll if deadline is None else min(self._poll, deadline - time.monotonic())
            if left <= 0:
                break
            time.sleep(left)
        return self.received is not None
