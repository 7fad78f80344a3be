"""The composition root of the notes service: settings, the database, notes and its users port.

Written for this service when notes moved out of the monolith (the rest of ``app`` was
copied unchanged). Notes runs on its own here: it asks the users service that
``USERS_SERVICE_ADDR`` names who a token's caller is and whether a user exists
(:class:`~app.remote.users.RemoteUserDirectory`), and the users service tells it about
deleted users through ``backend.v1.UserEventsService``. Importing this module does nothing;
``bootstrap`` is idempotent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from app import config
from app.remote.grpc import CallPolicy, Connection
from app.remote.users import RemoteUserDirectory
from app.service.notes.service import NotesService
from app.service.pagination import Cursors
from common.config import ConfigurationError
from common.db import Database, utcnow
from common.lifecycle import Lifecycle
from common.logs import configure_logging

__all__ = ["Runtime", "Services", "bootstrap", "current", "shutdown"]


@dataclass(frozen=True, slots=True)
class Services:
    """The service layer bound to one unit of work's session."""

    notes: NotesService


class Runtime:
    """Everything one process of this service holds: settings, lifecycle, database, users."""

    def __init__(self, settings: config.Settings) -> None:
        if not settings.users_service_addr:
            raise ConfigurationError(
                "invalid configuration:\n  USERS_SERVICE_ADDR: the users service's gRPC "
                "host:port is required (notes asks it who callers are)"
            )
        self.settings = settings
        self.lifecycle = Lifecycle()
        self.database = Database(
            settings.database_url,
            pool_size=settings.database_pool_size,
            timeout=settings.database_timeout_seconds,
            echo=settings.database_echo,
        )
        #: The time source of every service; tests replace it to travel in time.
        self.clock: Callable[[], dt.datetime] = utcnow
        self.cursors = Cursors(settings.secret_key.get_secret_value())
        users = Connection(
            settings.users_service_addr,
            service="users",
            policy=CallPolicy(
                timeout=settings.remote_timeout_seconds, attempts=settings.remote_attempts
            ),
        )
        self.users = RemoteUserDirectory(users)
        self.lifecycle.on_init(self._configure_logging)
        self.lifecycle.on_teardown(self.database.remove_session)
        self.lifecycle.on_shutdown(self.database.dispose)
        self.lifecycle.on_shutdown(users.close)

    def _configure_logging(self) -> None:
        configure_logging(self.settings.log_level, json_lines=self.settings.structured_logs)

    def unit_of_work(self) -> contextlib.AbstractContextManager[None]:
        return self.lifecycle.unit_of_work()

    def now(self) -> dt.datetime:
        """The current time by :attr:`clock` (looked up on every call, so tests can swap it)."""
        return self.clock()

    def services(self) -> Services:
        notes = NotesService(
            self.database.session, users=self.users, clock=self.now, cursors=self.cursors
        )
        return Services(notes=notes)

    @contextlib.contextmanager
    def services_scope(self) -> Iterator[Services]:
        """One unit of work with its services: ``with runtime.services_scope() as svc: ...``."""
        with self.unit_of_work():
            yield self.services()


_lock = threading.Lock()
_runtime: Runtime | None = None
_built_with: config.Settings | None = None


def bootstrap(settings: config.Settings | None = None) -> Runtime:
    """Build and initialize the runtime once; later calls return the same one.

    ``settings`` defaults to :func:`app.config.load` (the environment). Asking for a runtime
    with different settings than the existing one is an error: call :func:`shutdown` first.
    """
    global _runtime, _built_with
    with _lock:
        if _runtime is not None:
            if settings is not None and settings != _built_with:
                raise RuntimeError("already bootstrapped with other settings; shutdown() first")
            return _runtime
        _built_with = settings if settings is not None else config.load()
        runtime = Runtime(_built_with)
        runtime.lifecycle.initialize()
        _runtime = runtime
        return runtime


def current() -> Runtime:
    """The bootstrapped runtime (for adapters that cannot be handed it)."""
    if _runtime is None:
        raise RuntimeError("bootstrap() has not been called")
    return _runtime


def shutdown() -> None:
    """Run the shutdown hooks and forget the runtime."""
    global _runtime, _built_with
    with _lock:
        runtime, _runtime, _built_with = _runtime, None, None
    if runtime is not None:
        runtime.lifecycle.shutdown()
