"""Just enough of an SMTP server (RFC 5321) for tests: it records what it is sent."""

from __future__ import annotations

import base64
import contextlib
import email
import email.message
import email.policy
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["Received", "SmtpServer"]


@dataclass
class Received:
    logins: list[str] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    messages: list[email.message.EmailMessage] = field(default_factory=list)


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for one client: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    server: SmtpServer

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
                self.server.goodbyes.wait()  # held while a test needs a client mid-send
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.received = Received()
        #: Cleared, the server answers no QUIT until it is set again.
        self.goodbyes = threading.Event()
        self.goodbyes.set()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @classmethod
    @contextlib.contextmanager
    def running(cls) -> Iterator[SmtpServer]:
        server = cls()
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield server
        finally:
            server.goodbyes.set()
            server.shutdown()
            server.server_close()
            thread.join()
