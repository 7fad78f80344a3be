"""The mail port: how the service layer sends a message, whatever carries it.

``app.bootstrap`` picks the adapter from ``MAIL_BACKEND``: the local outbox table
(``app.db.mail``), the log, or SMTP (``app.remote.mail``). The sender address is the
adapter's concern (``MAIL_FROM``).
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Mailer"]


class Mailer(Protocol):
    def send(self, *, to: str, subject: str, body: str) -> None:
        """Deliver one plain-text message to ``to``; raises when it cannot be handed over."""
