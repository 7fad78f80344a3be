"""Mail backends: SMTP against a small local SMTP server, the log backend, the settings."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator
from typing import Any

import pytest

from app.bootstrap import Runtime
from app.config import load
from app.remote.mail import LogMailer, SmtpMailer, SmtpSettings
from common.config import ConfigurationError
from tests.conftest import make_test_settings
from tests.smtp import Received, SmtpServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer.running() as server:
        yield server


def _settings(server: SmtpServer, **changes: Any) -> SmtpSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.server_address[1],
        "sender": "Backend <no-reply@example.com>",
        "starttls": False,
        "timeout": 5,
    }
    values.update(changes)
    return SmtpSettings(**values)


def test_smtp_delivers_the_message_after_logging_in(smtp_server: SmtpServer) -> None:
    mailer = SmtpMailer(_settings(smtp_server, username="mailer", password="s3cret"))
    mailer.send(to="ada@example.com", subject="Welcome aboard", body="Hello Ada,\n")

    received = smtp_server.received
    assert received.logins == ["\0mailer\0s3cret"]
    assert received.envelopes == [("FROM:<no-reply@example.com>", ["TO:<ada@example.com>"])]
    [message] = received.messages
    assert message["From"] == "Backend <no-reply@example.com>"
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Welcome aboard"
    assert message.get_content() == "Hello Ada,\n"


def test_smtp_without_credentials_does_not_log_in(smtp_server: SmtpServer) -> None:
    SmtpMailer(_settings(smtp_server)).send(to="ada@example.com", subject="S", body="B")
    assert smtp_server.received.logins == []
    assert len(smtp_server.received.messages) == 1


def test_a_message_the_server_accepted_is_sent_whatever_its_goodbye_does(
    smtp_server: SmtpServer,
) -> None:
    """A failing QUIT after the data was accepted must not fail the job (and send it again)."""
    smtp_server.goodbyes.clear()  # no answer to QUIT: the client's timeout runs out
    SmtpMailer(_settings(smtp_server, timeout=0.3)).send(
        to="ada@example.com", subject="S", body="B"
    )
    assert len(smtp_server.received.messages) == 1


def test_smtp_with_starttls_refuses_a_server_without_it(smtp_server: SmtpServer) -> None:
    mailer = SmtpMailer(_settings(smtp_server, starttls=True, username="u", password="p"))
    with pytest.raises(smtplib.SMTPNotSupportedError):
        mailer.send(to="ada@example.com", subject="S", body="B")
    # Neither the password nor the message went over the unencrypted connection.
    assert smtp_server.received == Received()


def test_the_log_backend_writes_the_message_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="app.remote.mail"):
        LogMailer(sender="no-reply@localhost").send(
            to="ada@example.com", subject="Welcome aboard", body="Hello Ada,"
        )
    [record] = caplog.records
    assert record.getMessage() == (
        "mail from no-reply@localhost to ada@example.com: Welcome aboard\nHello Ada,"
    )


def test_the_smtp_backend_needs_a_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMTP_HOST", raising=False)
    with pytest.raises(ConfigurationError, match="SMTP_HOST"):
        load(app_env="test", database_url="postgresql://db/app", mail_backend="smtp")
    settings = load(
        app_env="test", database_url="postgresql://db/app", mail_backend="smtp", smtp_host="mx"
    )
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_starttls) == ("mx", 587, True)


def test_mail_backend_smtp_sends_with_the_smtp_settings(smtp_server: SmtpServer) -> None:
    settings = make_test_settings(
        "postgresql://unused/unused",
        mail_backend="smtp",
        mail_from="Backend <no-reply@example.com>",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.server_address[1],
        smtp_username="mailer",
        smtp_password="s3cret",
        smtp_starttls=False,
    )
    runtime = Runtime(settings)  # builds an engine, opens nothing
    try:
        mailer = runtime.mailer(runtime.database.session)
        mailer.send(to="ada@example.com", subject="Welcome aboard", body="Hello Ada,\n")
    finally:
        runtime.database.dispose()
    assert smtp_server.received.logins == ["\0mailer\0s3cret"]
    assert smtp_server.received.envelopes == [
        ("FROM:<no-reply@example.com>", ["TO:<ada@example.com>"])
    ]
