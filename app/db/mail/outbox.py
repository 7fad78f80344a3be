"""The ``outbox`` mail backend: a message is delivered by writing it to ``mail_outbox``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from app.db.mail.models import MailOutboxRow

__all__ = ["OutboxMailer"]


class OutboxMailer:
    """Writes each message in ``session``'s transaction; the caller commits."""

    def __init__(self, session: Session, *, sender: str, clock: Callable[[], dt.datetime]) -> None:
        self._session = session
        self._sender = sender
        self._clock = clock

    def send(self, *, to: str, subject: str, body: str) -> None:
        self._session.add(
            MailOutboxRow(
                sender=self._sender,
                recipient=to,
                subject=subject,
                body=body,
                created_at=self._clock(),
            )
        )
        self._session.flush()
