"""Telling the services that run apart from users that a user was deleted, reliably.

In one process, a feature that keeps data by user deletes it in the deletion's own
transaction (a :class:`~app.service.users.service.UserEvents` listener). A service of its
own (notes, once split) cannot join that transaction, so the composition root registers
:meth:`UserEventsRelay.user_deleted` instead: it enqueues :data:`RELAY_USER_DELETED` in the
deletion's transaction, so the job exists exactly when the deletion committed. The worker
then calls :meth:`UserEventsRelay.deliver_user_deleted`, which tells every subscriber (a
client from ``app.remote``); a failure fails the job, and the queue retries it with backoff.
Subscribers must therefore be idempotent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Protocol

from app.service.jobs import JobQueue, Task
from app.service.validation import parse_id

__all__ = ["RELAY_USER_DELETED", "UserEventSubscriber", "UserEventsRelay"]

logger = logging.getLogger(__name__)

#: The job a deletion enqueues when some service runs apart; the worker runs it with ``user_id``.
RELAY_USER_DELETED = Task("users.relay_user_deleted", queue="events")


class UserEventSubscriber(Protocol):
    """A service in another process that keeps data by user id."""

    @property
    def name(self) -> str:
        """Which service this is, for the log."""

    def user_deleted(self, user_id: uuid.UUID) -> None:
        """Forget the user; idempotent. Raises when the service cannot be told."""


class UserEventsRelay:
    def __init__(self, jobs: JobQueue, subscribers: Sequence[UserEventSubscriber]) -> None:
        self._jobs = jobs
        self._subscribers = tuple(subscribers)

    def user_deleted(self, user_id: uuid.UUID) -> None:
        """Listener for deletions; runs inside the deletion's transaction."""
        if self._subscribers:
            self._jobs.enqueue(RELAY_USER_DELETED, user_id=str(user_id))

    def deliver_user_deleted(self, user_id: str | uuid.UUID) -> None:
        """Tell every subscriber (the worker's half); raises so that the job is retried."""
        deleted = parse_id(user_id, what="user")
        for subscriber in self._subscribers:
            subscriber.user_deleted(deleted)
            logger.info("told the %s service that user %s was deleted", subscriber.name, deleted)
