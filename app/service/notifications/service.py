"""Notifications: the welcome message a sign-up sends, in two halves.

:meth:`NotificationsService.user_registered` listens to sign-ups and enqueues the job in the
sign-up's own transaction; the worker later runs :meth:`NotificationsService.send_welcome`.
A committed sign-up therefore always gets its message (the job is committed with it) and a
rolled-back one never does.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.orm import Session

from app.service.jobs import JobQueue, Task
from app.service.mail import Mailer
from app.service.users.service import UsersService
from common.db import transaction
from common.errors import NotFound

__all__ = ["SEND_WELCOME", "NotificationsService", "welcome_message"]

logger = logging.getLogger(__name__)

#: The job a sign-up enqueues; the worker runs it with ``user_id``.
SEND_WELCOME = Task("notifications.send_welcome", queue="mail")


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
        self, session: Session, users: UsersService, *, mailer: Mailer, jobs: JobQueue
    ) -> None:
        self._session = session
        self._users = users
        self._mailer = mailer
        self._jobs = jobs

    def user_registered(self, user_id: uuid.UUID) -> None:
        """Listener for sign-ups; runs inside the sign-up's transaction."""
        self._jobs.enqueue(SEND_WELCOME, user_id=str(user_id))

    def send_welcome(self, user_id: str | uuid.UUID) -> bool:
        """Send the welcome message; False when the user was deleted in the meantime.

        A failure to hand the message over raises, so the job is retried.
        """
        try:
            user = self._users.get(user_id)
        except NotFound:
            logger.info("no welcome message: user %s no longer exists", user_id)
            return False
        subject, body = welcome_message(user.display_name)
        with transaction(self._session):
            self._mailer.send(to=user.email, subject=subject, body=body)
        return True
