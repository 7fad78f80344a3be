"""WSGI middleware around the Flask app: a request id for every request, and its access log.

The id comes from a well-formed ``X-Request-ID`` header or is made up; it is bound for the
whole request (so every log line carries it), echoed in the response's ``X-Request-ID``, and
one line per request goes to the ``app.api.rest.access`` logger once the response started.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from common.logs import accepted_request_id, bind_request_id

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["REQUEST_ID_HEADER", "TRACE_IDS_KEY", "RequestLogMiddleware"]

access_logger = logging.getLogger("app.api.rest.access")

REQUEST_ID_HEADER = "X-Request-ID"
#: Where the app leaves the request span's (trace id, span id) for the access log.
TRACE_IDS_KEY = "app.trace_ids"


class RequestLogMiddleware:
    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status = "500"
        with bind_request_id(accepted_request_id(environ.get("HTTP_X_REQUEST_ID"))) as request_id:

            def start(
                status_line: str,
                headers: list[tuple[str, str]],
                exc_info: OptExcInfo | None = None,
            ) -> Callable[[bytes], object]:
                nonlocal status
                status = status_line.partition(" ")[0]
                headers.append((REQUEST_ID_HEADER, request_id))
                return start_response(status_line, headers, exc_info)

            try:
                return self.app(environ, start)
            finally:
                _log_access(environ, status, time.perf_counter() - started)


def _log_access(environ: WSGIEnvironment, status: str, seconds: float) -> None:
    method = environ.get("REQUEST_METHOD", "-")
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    duration_ms = round(seconds * 1000, 1)
    extra: dict[str, object] = {}
    if ids := environ.get(TRACE_IDS_KEY):
        extra["trace_id"], extra["span_id"] = ids
    access_logger.info(
        "%s %s %s %.1fms",
        method,
        path,
        status,
        duration_ms,
        extra={
            "method": method,
            "path": path,
            "status": int(status),
            "duration_ms": duration_ms,
            **extra,
        },
    )
