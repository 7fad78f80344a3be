"""Mail backends: SMTP against a small local SMTP server, the log backend, the settings."""

from __future__ import annotations

import base64
import email
import email.policy
import logging
import smtplib
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.bootstrap import Runtime
from app.config import load
from app.remote.mail import LogMailer, SmtpMailer, SmtpSettings
from common.config import ConfigurationError
from tests.conftest import make_test_settings


@dataclass
class Received:
    logins: list[str] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    messages: list[email.message.EmailMessage] = field(default_factory=list)


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for one client: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    server: _SmtpServer

    def reply(self, *lines: str) -> None:
        for index, line in enumerate(lines):
            separator = " " if index == len(lines) - 1 else "-"
            self.wfile.write(f"{line[:3]}{separator}{line[4:]}\r\n".encode())

    def handle(self) -> None:
        received = self.server.received
        sender, recipients = "", []
        self.reply("220 test ESMTP")
        while line := self.rfile.readline():
            verb, _, argument = line.decode().rstrip("\r\n").partition(" ")
            verb = verb.upper()
            if verb == "EHLO":
                self.reply("250 test", "250 AUTH PLAIN")
            elif verb == "AUTH":
                _, _, credentials = argument.partition(" ")
                received.logins.append(base64.b64decode(credentials).decode())
                self.reply("235 2.7.0 accepted")
            elif verb == "MAIL":
                sender = argument
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(argument)
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk[1:] if chunk.startswith(b"..") else chunk  # dot-stuffing
                received.envelopes.append((sender, recipients))
                message = email.message_from_bytes(
                    data.replace(b"\r\n", b"\n"), policy=email.policy.default
                )
                received.messages.append(message)
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.received = Received()


@pytest.fixture
def smtp_server() -> Iterator[_SmtpServer]:
    server = _SmtpServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _settings(server: _SmtpServer, **changes: Any) -> SmtpSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.server_address[1],
        "sender": "Backend <no-reply@example.com>",
        "starttls": False,
        "timeout": 5,
    }
    values.update(changes)
    return SmtpSettings(**values)


def test_smtp_delivers_the_message_after_logging_in(smtp_server: _SmtpServer) -> None:
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


def test_smtp_without_credentials_does_not_log_in(smtp_server: _SmtpServer) -> None:
    SmtpMailer(_settings(smtp_server)).send(to="ada@example.com", subject="S", body="B")
    assert smtp_server.received.logins == []
    assert len(smtp_server.received.messages) == 1


def test_smtp_with_starttls_refuses_a_server_without_it(smtp_server: _SmtpServer) -> None:
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


def test_mail_backend_smtp_sends_with_the_smtp_settings(smtp_server: _SmtpServer) -> None:
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
