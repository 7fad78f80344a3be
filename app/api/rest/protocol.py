"""uvicorn's HTTP/1.1 protocol with a bound on reading a request, and problem+json refusals.

uvicorn reads requests asynchronously, so a client that sends slowly holds a connection, not a
worker; what it does not bound is how long that may last, nor how large the request's head
may grow. Here a connection must send each whole request (head and body) within
``REST_READ_TIMEOUT_SECONDS`` of its first byte (or of the connection), else it is answered
408 and closed; a head past ``REST_MAX_HEADER_BYTES`` is answered 431 (414 when the request
line alone is too long). What the protocol refuses itself, a request it cannot parse
included, is answered as every other refusal is: an RFC 9457 problem.

When the server stops, uvicorn closes every connection that has no request in progress. A
connection that never had one may be carrying one the client already sent, not read yet
(the worker was busy answering another): such a connection gets :data:`FRESH_GRACE` seconds
for its request to arrive, and is answered and closed, instead of being reset unanswered.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.api.rest.errors import PROBLEM_MEDIA_TYPE, SECURITY_HEADERS, problem_json

__all__ = ["FRESH_GRACE", "RestConfig", "RestProtocol"]

#: Seconds a connection that never had a request keeps, once the server stops, for one.
FRESH_GRACE = 1.0


class RestConfig(Config):
    """uvicorn's configuration, with the two bounds :class:`RestProtocol` enforces.

    It travels to every worker process with the rest of the configuration.
    """

    def __init__(
        self, *args: Any, read_timeout: float, max_header_bytes: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.read_timeout = read_timeout
        self.max_header_bytes = max_header_bytes


class RestProtocol(HttpToolsProtocol):
    def __init__(self, config: Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._read_timeout: float = getattr(config, "read_timeout", 10.0)
        self._max_head: int = getattr(config, "max_header_bytes", 64 * 1024)
        self._reading: asyncio.TimerHandle | None = None
        self._head_bytes: int | None = 0  # None once the head is complete
        self._line_bytes = 0  # of the request line, as far as it has arrived
        self._line_ended = False
        self._tail = b""  # the last bytes of the head so far, for a blank line split in two
        self._in_request = False  # from a request's first byte to its last
        self._requests = 0  # whose head arrived on this connection
        self._stopping = False

    # -- the read timer: from a connection's start, or a request's first byte, to its end ------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_reading()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_request = True
        self._start_reading()

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        self._requests += 1
        super().on_headers_complete()
        if self._stopping and self.cycle is not None:
            self.cycle.keep_alive = False  # answered, then closed: the server is stopping

    def on_message_complete(self) -> None:
        self._in_request = False
        self._stop_reading()
        # The next bytes are the next request's head.
        self._head_bytes, self._line_bytes, self._line_ended, self._tail = 0, 0, False, b""
        super().on_message_complete()

    def _start_reading(self) -> None:
        if self._reading is None:
            self._reading = self.loop.call_later(self._read_timeout, self._read_timed_out)

    def _stop_reading(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            self._reading = None

    def _read_timed_out(self) -> None:
        self._reading = None
        if not self._in_request:
            self.transport.close()  # a connection that never sent a byte: nothing to answer
            return
        if self.cycle is not None and self.cycle.response_started:
            return  # the app answered before the body was in
        self._refuse(
            HTTPStatus.REQUEST_TIMEOUT,
            "request-timeout",
            f"the request did not arrive whole within {self._read_timeout:g} s",
        )

    # -- the server stopping ------------------------------------------------------------------
    def shutdown(self) -> None:
        self._stopping = True
        if self.cycle is None and (self._in_request or self._requests == 0):
            # A request arriving, or perhaps sent and not read yet: answer it, then close.
            self.loop.call_later(FRESH_GRACE, self._close_unless_answering)
            return
        super().shutdown()

    def _close_unless_answering(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()

    # -- the size of a request's head -----------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self._head_bytes is not None:
            # Only the head counts: the bytes up to the blank line that ends it, if it is here.
            window = self._tail + data
            end = window.find(b"\r\n\r\n")
            self._head_bytes += len(data) if end < 0 else max(0, end + 4 - len(self._tail))
            self._tail = window[-3:]
            if not self._line_ended:
                newline = data.find(b"\n")
                self._line_bytes += len(data) if newline < 0 else newline
                self._line_ended = newline >= 0
            if self._head_bytes > self._max_head:
                if self._line_bytes > self._max_head:
                    self._refuse(
                        HTTPStatus.REQUEST_URI_TOO_LONG, "uri-too-long", "the URI is too long"
                    )
                else:
                    self._refuse(
                        HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                        "header-fields-too-large",
                        f"the request's head is over {self._max_head} bytes",
                    )
                return
        super().data_received(data)

    # -- what the protocol answers itself --------------------------------------------------------
    def send_400_response(self, msg: str) -> None:
        self._refuse(
            HTTPStatus.BAD_REQUEST, "malformed-request", "the request is not valid HTTP/1.1"
        )

    def _refuse(self, status: HTTPStatus, code: str, detail: str) -> None:
        self._stop_reading()
        if self.transport.is_closing():
            return
        body = problem_json(status=status.value, code=code, title=status.phrase, detail=detail)
        head = [f"HTTP/1.1 {status.value} {status.phrase}".encode()]
        head += [name + b": " + value for name, value in self.server_state.default_headers]
        head += [f"{name}: {value}".encode() for name, value in SECURITY_HEADERS.items()]
        head += [
            f"content-type: {PROBLEM_MEDIA_TYPE}".encode(),
            f"content-length: {len(body)}".encode(),
            b"connection: close",
        ]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self.transport.close()
