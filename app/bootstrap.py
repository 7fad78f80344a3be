"""The composition root: the one place that builds settings, the database and the services.

Entry points (REST, gRPC, worker, commands, the shell) call :func:`bootstrap` and run each
unit of work inside ``runtime.unit_of_work()`` (or the adapter's equivalent hook), then ask
``runtime.services()`` for the services bound to that unit of work's session. What every
service's runtime holds (settings, lifecycle, database, clock) and the build-once logic are
:mod:`common.runtime`'s; this module wires this service's features. Importing it does
nothing; ``bootstrap`` is idempotent.

The settings choose how features that may run apart reach each other, here and nowhere else:

* notes learns about users through its port: the users and auth services in this process
  (:class:`~app.service.inprocess.LocalUserDirectory`), or with ``USERS_SERVICE_ADDR`` the
  users service over gRPC (:class:`~app.remote.users.RemoteUserDirectory`);
* a user's deletion deletes their notes in the same transaction, or with
  ``NOTES_SERVICE_ADDR`` enqueues a job that tells the notes service
  (:class:`~app.service.users.relay.UserEventsRelay`, :mod:`app.remote.user_events`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app import config
from app.db.jobs import SessionJobQueue
from app.db.mail.outbox import OutboxMailer
from app.remote.grpc import CallPolicy, Connection
from app.remote.mail import LogMailer, SmtpMailer, SmtpSettings, TracedMailer
from app.remote.user_events import UserEventsClient
from app.remote.users import RemoteUserDirectory
from app.service.auth.service import AuthService, LoginThrottle
from app.service.inprocess import LocalUserDirectory
from app.service.mail import Mailer
from app.service.notes.service import NotesService
from app.service.notes.users import UserDirectory
from app.service.notifications.service import NotificationsService
from app.service.pagination import Cursors
from app.service.users.passwords import PasswordHasher
from app.service.users.relay import UserEventsRelay, UserEventSubscriber
from app.service.users.service import UserEvents, UsersService
from common.runtime import Once, ServiceRuntime
from common.telemetry import Tracing

__all__ = ["Runtime", "Services", "bootstrap", "shutdown"]


@dataclass(frozen=True, slots=True)
class Services:
    """The service layer bound to one unit of work's session."""

    users: UsersService
    auth: AuthService
    notes: NotesService
    notifications: NotificationsService
    user_events: UserEventsRelay


class Runtime(ServiceRuntime[config.Settings, Services]):
    """Everything one process of this service holds: the common runtime, and its features'."""

    SERVICE_NAME = "backend-app"

    def __init__(self, settings: config.Settings, *, tracing: Tracing | None = None) -> None:
        super().__init__(settings, tracing=tracing)
        self.passwords = PasswordHasher(
            time_cost=settings.password_time_cost,
            memory_cost_kib=settings.password_memory_cost_kib,
            parallelism=settings.password_parallelism,
            min_length=settings.password_min_length,
        )
        self.cursors = Cursors(settings.secret_key.get_secret_value())
        policy = CallPolicy(
            timeout=settings.remote_timeout_seconds, attempts=settings.remote_attempts
        )
        #: Notes' view of users when users runs elsewhere (None: in this process).
        self.remote_users: RemoteUserDirectory | None = None
        #: The services told of deleted users through the job queue.
        self.user_event_subscribers: list[UserEventSubscriber] = []
        if settings.users_service_addr:
            users = self._connect(settings.users_service_addr, "users", policy)
            self.remote_users = RemoteUserDirectory(users)
        if settings.notes_service_addr:
            notes = self._connect(settings.notes_service_addr, "notes", policy)
            self.user_event_subscribers.append(UserEventsClient(notes))

    def _connect(self, target: str, service: str, policy: CallPolicy) -> Connection:
        connection = Connection(target, service=service, policy=policy, tracing=self.tracing)
        self.lifecycle.on_shutdown(connection.close)
        return connection

    def services(self) -> Services:
        session = self.database.session
        events = UserEvents()
        users = UsersService(
            session, self.passwords, clock=self.now, cursors=self.cursors, events=events
        )
        auth = AuthService(
            session,
            users,
            token_ttl=dt.timedelta(seconds=self.settings.token_ttl_seconds),
            clock=self.now,
            throttle=LoginThrottle(
                per_account=self.settings.login_max_failures_per_account,
                per_address=self.settings.login_max_failures_per_address,
                window=dt.timedelta(seconds=self.settings.login_throttle_window_seconds),
            ),
        )
        directory: UserDirectory = self.remote_users or LocalUserDirectory(auth, users)
        notes = NotesService(session, users=directory, clock=self.now, cursors=self.cursors)
        jobs = SessionJobQueue(session)
        notifications = NotificationsService(
            session, users, mailer=self.mailer(session), jobs=jobs, clock=self.now
        )
        user_events = UserEventsRelay(jobs, self.user_event_subscribers)
        events.registered.append(notifications.user_registered)
        events.password_changed.append(auth.revoke_all_for_user)
        if self.user_event_subscribers:
            events.deleted.append(user_events.user_deleted)
        elif self.remote_users is None:
            # Notes and users in one process: the notes go in the deletion's transaction.
            events.deleted.append(notes.delete_all_for_owner)
        return Services(
            users=users,
            auth=auth,
            notes=notes,
            notifications=notifications,
            user_events=user_events,
        )

    def mailer(self, session: Session) -> Mailer:
        """The mail backend ``MAIL_BACKEND`` names (the outbox writes in ``session``), its
        sends traced when tracing is on."""
        mailer = self._mailer(session)
        if self.tracing.enabled:
            return TracedMailer(mailer, self.tracing.tracer("app.mail"))
        return mailer

    def _mailer(self, session: Session) -> Mailer:
        settings = self.settings
        if settings.mail_backend == "outbox":
            return OutboxMailer(session, sender=settings.mail_from, clock=self.now)
        if settings.mail_backend == "smtp":
            return SmtpMailer(
                SmtpSettings(
                    host=settings.smtp_host,
                    port=settings.smtp_port,
                    sender=settings.mail_from,
                    username=settings.smtp_username,
                    password=settings.smtp_password.get_secret_value(),
                    starttls=settings.smtp_starttls,
                    timeout=settings.smtp_timeout_seconds,
                )
            )
        return LogMailer(sender=settings.mail_from)


_once: Once[config.Settings, Runtime] = Once(Runtime, config.load)
#: Build and initialise this process's runtime once (settings default to the environment).
bootstrap = _once.bootstrap
#: Run the shutdown hooks and forget the runtime.
shutdown = _once.shutdown
