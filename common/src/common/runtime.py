"""What every process of a service holds, and the one place a process builds it.

A service's composition root subclasses :class:`ServiceRuntime` (its settings, lifecycle and
database are made here; the root adds its features and says how to build their services for
one unit of work) and builds it through a :class:`Once`: the first ``bootstrap()`` of a
process makes and initialises the runtime, later ones return it, and ``shutdown()`` runs the
shutdown hooks. Nothing is built at import time.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import ClassVar, Generic, TypeVar

from common.config import BaseServiceSettings
from common.db import Database, utcnow
from common.lifecycle import Lifecycle
from common.logs import configure_logging
from common.metrics import Metrics
from common.telemetry import Tracing

__all__ = ["Once", "ServiceRuntime"]

SettingsT = TypeVar("SettingsT", bound=BaseServiceSettings)
ServicesT = TypeVar("ServicesT")
RuntimeT = TypeVar("RuntimeT", bound="ServiceRuntime")  # type: ignore[type-arg]


class ServiceRuntime(abc.ABC, Generic[SettingsT, ServicesT]):
    """Settings, the lifecycle, the database, the clock and the telemetry of one process.

    Logging is configured at initialisation; the unit of work's session is removed after
    each unit of work and the engine disposed of at shutdown (lifecycle hooks). Tracing is
    what ``OTEL_*`` asks for (:class:`~common.telemetry.Tracing`; ``tracing`` replaces it, as
    tests do), metrics are on unless ``METRICS_ENABLED`` is false.
    """

    #: The service's name in traces, unless OTEL_SERVICE_NAME gives another.
    SERVICE_NAME: ClassVar[str] = "backend"

    def __init__(self, settings: SettingsT, *, tracing: Tracing | None = None) -> None:
        self.settings = settings
        self.lifecycle = Lifecycle()
        self.tracing = tracing or Tracing.from_environment(self.SERVICE_NAME)
        self.metrics = Metrics() if settings.metrics_enabled else None
        self.database = Database(
            settings.database_url,
            pool_size=settings.database_pool_size,
            echo=settings.database_echo,
            timeout=settings.database_timeout_seconds,
            fast_path=settings.database_fast_path,
            prepared_statements=settings.database_prepared_statements,
            metrics=self.metrics,
            tracer=self.tracing.tracer("common.db") if self.tracing.enabled else None,
        )
        self.tracing.instrument_engine(self.database.engine)
        #: The time source of every service; tests replace it to travel in time.
        self.clock: Callable[[], dt.datetime] = utcnow
        self.lifecycle.on_init(self._configure_logging)
        self.lifecycle.on_teardown(self.database.remove_session)
        self.lifecycle.on_shutdown(self.database.dispose)
        self.lifecycle.on_shutdown(self.tracing.shutdown)

    def _configure_logging(self) -> None:
        configure_logging(self.settings.log_level, json_lines=self.settings.structured_logs)

    def now(self) -> dt.datetime:
        """The current time by :attr:`clock` (looked up on every call, so tests can swap it)."""
        return self.clock()

    def unit_of_work(self) -> contextlib.AbstractContextManager[None]:
        return self.lifecycle.unit_of_work()

    @abc.abstractmethod
    def services(self) -> ServicesT:
        """The service layer bound to the current unit of work's session."""

    @contextlib.contextmanager
    def services_scope(self) -> Iterator[ServicesT]:
        """One unit of work with its services: ``with runtime.services_scope() as svc: ...``."""
        with self.unit_of_work():
            yield self.services()


class Once(Generic[SettingsT, RuntimeT]):
    """Builds a process's runtime once: ``bootstrap(settings)`` then ``shutdown()``."""

    def __init__(
        self, build: Callable[[SettingsT], RuntimeT], load: Callable[[], SettingsT]
    ) -> None:
        self._build = build
        self._load = load
        self._lock = threading.Lock()
        self._runtime: RuntimeT | None = None
        self._built_with: SettingsT | None = None

    def bootstrap(self, settings: SettingsT | None = None) -> RuntimeT:
        """Build and initialise the runtime once; later calls return the same one.

        ``settings`` defaults to ``load()`` (the environment). Asking for a runtime with other
        settings than the existing one's is an error: call :meth:`shutdown` first.
        """
        with self._lock:
            if self._runtime is not None:
                if settings is not None and settings != self._built_with:
                    raise RuntimeError("already bootstrapped with other settings; shutdown() first")
                return self._runtime
            self._built_with = settings if settings is not None else self._load()
            runtime = self._build(self._built_with)
            runtime.lifecycle.initialize()
            self._runtime = runtime
            return runtime

    def shutdown(self) -> None:
        """Run the shutdown hooks and forget the runtime."""
        with self._lock:
            runtime, self._runtime, self._built_with = self._runtime, None, None
        if runtime is not None:
            runtime.lifecycle.shutdown()
