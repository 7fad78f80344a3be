"""Mail backends that hand messages to something outside the database: the log, or SMTP.

``MAIL_BACKEND=log`` writes each message to the log (local development: the worker's output
shows what would have been sent); ``MAIL_BACKEND=smtp`` delivers through an SMTP server
configured by ``SMTP_*`` and ``MAIL_FROM``. With tracing on, :class:`TracedMailer` makes each
message a span of the trace that sent it (a sign-up's, through its welcome job).
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from opentelemetry.trace import SpanKind, Tracer

__all__ = ["LogMailer", "SmtpMailer", "SmtpSettings", "TracedMailer"]

logger = logging.getLogger(__name__)


class LogMailer:
    """Logs each message instead of sending it."""

    def __init__(self, *, sender: str) -> None:
        self._sender = sender

    def send(self, *, to: str, subject: str, body: str) -> None:
        logger.info("mail from %s to %s: %s\n%s", self._sender, to, subject, body)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = 10.0


class SmtpMailer:
    """One SMTP connection per message: jobs are rare and a worker may idle for hours.

    A message the server accepted (its reply to the end of the data) is sent, whatever the
    goodbye that follows does: a failure of ``QUIT`` is not a failure to send, which would
    have the job retried and the message sent twice.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    def send(self, *, to: str, subject: str, body: str) -> None:
        settings = self._settings
        message = EmailMessage()
        message["From"] = settings.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password)
            smtp.send_message(message)
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()


class _Sends(Protocol):
    def send(self, *, to: str, subject: str, body: str) -> None: ...


class TracedMailer:
    """Another mailer's sends, each in a span (the recipient is left out: it is personal data)."""

    def __init__(self, mailer: _Sends, tracer: Tracer) -> None:
        self._mailer = mailer
        self._tracer = tracer

    def send(self, *, to: str, subject: str, body: str) -> None:
        kind = type(self._mailer).__name__
        with self._tracer.start_as_current_span(
            "mail send", kind=SpanKind.CLIENT, attributes={"mail.backend": kind}
        ):
            self._mailer.send(to=to, subject=subject, body=body)
