"""Notifications: the welcome message a sign-up sends, in two halves.

:meth:`NotificationsService.user_registered` listens to sign-ups and enqueues the job in the
sign-up's own transaction; the worker later runs :meth:`NotificationsService.send_welcome`.
A committed sign-up therefore gets its message (the job is committed with it) and a
rolled-back one never does.

A job can run twice: a worker that dies after sending but before the queue records the job
as done leaves it to be retried. So the delivery is claimed, and the claim committed, before
the message is handed over: a second run finds the claim and sends nothing. A mail goes out
at most once per user; one whose hand-over fails gives its claim up to be retried, and one
whose worker dies between the claim and the hand-over is not sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session

from app.db.notifications.repository import DeliveryRepository
from app.service.jobs import JobQueue, Task
from app.service.mail import Mailer
from app.service.users.service import UsersService
from common.db import transaction
from common.errors import NotFound

__all__ = ["SEND_WELCOME", "NotificationsService", "welcome_message"]

logger = logging.getLogger(__name__)

#: The job a sign-up enqueues; the worker runs it with ``user_id``.
SEND_WELCOME = Task("notifications.send_welcome", queue="mail")
_WELCOME = "welcome"


def welcome_message(display_name: str) -> tuple[str, str]:
    """Subject and body of the welcome message."""
    subject = "Welcome aboard"
    body = (
        f"Hello {display_name},\n\n"
        "your account is ready. Sign in with your email address and password.\n"
    )
    return subject, body


class NotificationsService:
    def __init__(
        self,
        session: Session,
        users: UsersService,
        *,
        mailer: Mailer,
        jobs: JobQueue,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._session = session
        self._deliveries = DeliveryRepository(session)
        self._users = users
        self._mailer = mailer
        self._jobs = jobs
        self._clock = clock

    def user_registered(self, user_id: uuid.UUID) -> None:
        """Listener for sign-ups; runs inside the sign-up's transaction."""
        self._jobs.enqueue(SEND_WELCOME, user_id=str(user_id))

    def send_welcome(self, user_id: str | uuid.UUID) -> bool:
        """Send the welcome message; False when it was sent before or the user is gone.

        A failure to hand the message over raises, so the job is retried.
        """
        try:
            user = self._users.get(user_id)
        except NotFound:
            logger.info("no welcome message: user %s no longer exists", user_id)
            return False
        with transaction(self._session):
            if not self._deliveries.claim(user.id, _WELCOME, self._clock()):
                logger.info("no welcome message: user %s was sent one already", user.id)
                return False
        subject, body = welcome_message(user.display_name)
        try:
            with transaction(self._session):
                self._mailer.send(to=user.email, subject=subject, body=body)
        except BaseException:
            with transaction(self._session):
                self._deliveries.release(user.id, _WELCOME)
            raise
        return True
