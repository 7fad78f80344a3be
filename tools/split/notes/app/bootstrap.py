"""The composition root of the notes service: notes and its users port, on the common runtime.

Written for this service when notes moved out of the monolith (the rest of ``app`` was
copied unchanged; what every service's runtime holds is :mod:`common.runtime`'s). Notes runs
on its own here: it asks the users service that ``USERS_SERVICE_ADDR`` names who a token's
caller is and whether a user exists (:class:`~app.remote.users.RemoteUserDirectory`), and the
users service tells it about deleted users through ``backend.v1.UserEventsService``.
Importing this module does nothing; ``bootstrap`` is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass

from app import config
from app.remote.grpc import CallPolicy, Connection
from app.remote.users import RemoteUserDirectory
from app.service.notes.service import NotesService
from app.service.pagination import Cursors
from common.config import ConfigurationError
from common.runtime import Once, ServiceRuntime
from common.telemetry import Tracing

__all__ = ["Runtime", "Services", "bootstrap", "shutdown"]


@dataclass(frozen=True, slots=True)
class Services:
    """The service layer bound to one unit of work's session."""

    notes: NotesService


class Runtime(ServiceRuntime[config.Settings, Services]):
    """Everything one process of this service holds: the common runtime, and the users port."""

    SERVICE_NAME = "backend-notes"

    def __init__(self, settings: config.Settings, *, tracing: Tracing | None = None) -> None:
        if not settings.users_service_addr:
            raise ConfigurationError(
                "invalid configuration:\n  USERS_SERVICE_ADDR: the users service's gRPC "
                "host:port is required (notes asks it who callers are)"
            )
        super().__init__(settings, tracing=tracing)
        self.cursors = Cursors(settings.secret_key.get_secret_value())
        users = Connection(
            settings.users_service_addr,
            service="users",
            policy=CallPolicy(
                timeout=settings.remote_timeout_seconds, attempts=settings.remote_attempts
            ),
            tracing=self.tracing,
        )
        self.users = RemoteUserDirectory(users)
        self.lifecycle.on_shutdown(users.close)

    def services(self) -> Services:
        notes = NotesService(
            self.database.session, users=self.users, clock=self.now, cursors=self.cursors
        )
        return Services(notes=notes)


_once: Once[config.Settings, Runtime] = Once(Runtime, config.load)
#: Build and initialise this process's runtime once (settings default to the environment).
bootstrap = _once.bootstrap
#: Run the shutdown hooks and forget the runtime.
shutdown = _once.shutdown
