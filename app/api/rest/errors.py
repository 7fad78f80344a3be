"""Every REST failure as an RFC 9457 problem; the one table from the error tree to HTTP statuses.

Three kinds of failure reach a client, all as ``application/problem+json``:

* a :class:`~common.errors.ServiceError` (raised by a service, or by this adapter for input it
  cannot read: :class:`MalformedRequest`, :class:`UnsupportedMediaType`) gets the status of
  its row in :data:`STATUS_TABLE`, found along its class hierarchy;
* a werkzeug ``HTTPException`` (unknown route, wrong method, body over the size limit) keeps
  the status werkzeug chose and is only rendered here;
* anything else is a bug: logged with its traceback, answered with a bare 500.

The problem ``type`` is ``/problems/<code>``, with ``code`` the error's stable
:attr:`~common.errors.ServiceError.code`, so a client (or the REST/gRPC parity suite) can
recover the error kind from ``type`` alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from app.api.rest.schemas import FieldError, Problem
from common.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceError,
    Unauthenticated,
    Unavailable,
    row_for,
)
from common.logs import current_request_id

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "SECURITY_HEADERS",
    "STATUS_TABLE",
    "MalformedRequest",
    "Status",
    "UnsupportedMediaType",
    "problem_json",
    "problem_response",
    "register_error_handlers",
    "status_for",
]

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
#: Sent with every answer: the API serves JSON to programs, never pages to render or frame.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
PROBLEM_TYPE_PREFIX = "/problems/"


class MalformedRequest(ServiceError):
    """The body is not JSON, or not a JSON object: there are no fields to report on."""

    code = "malformed-request"


class UnsupportedMediaType(ServiceError):
    """The body is not ``application/json``."""

    code = "unsupported-media-type"


@dataclass(frozen=True, slots=True)
class Status:
    """How one kind of error is served: status, problem title and extra headers."""

    code: int
    title: str
    headers: tuple[tuple[str, str], ...] = ()


#: The one table: which HTTP status each kind of error is served with.
STATUS_TABLE: Mapping[type[ServiceError], Status] = {
    MalformedRequest: Status(400, "Malformed request"),
    Unauthenticated: Status(401, "Unauthenticated", (("WWW-Authenticate", "Bearer"),)),
    PermissionDenied: Status(403, "Permission denied"),
    NotFound: Status(404, "Not found"),
    Conflict: Status(409, "Conflict"),
    UnsupportedMediaType: Status(415, "Unsupported media type"),
    InvalidInput: Status(422, "Invalid input"),
    # Retry-After: the error's own ``retry_after`` (see _service_error).
    RateLimited: Status(429, "Too many requests"),
    Unavailable: Status(503, "Service unavailable", (("Retry-After", "5"),)),
    # An error added to the tree without a row of its own: a refusal, not a crash.
    ServiceError: Status(400, "Request refused"),
}

#: The failures werkzeug raises before a view runs, by status: their problem code and title.
_HTTP_PROBLEMS: Mapping[int, tuple[str, str]] = {
    400: (MalformedRequest.code, STATUS_TABLE[MalformedRequest].title),
    404: (NotFound.code, STATUS_TABLE[NotFound].title),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("content-too-large", "Content too large"),
    415: (UnsupportedMediaType.code, STATUS_TABLE[UnsupportedMediaType].title),
}

_INTERNAL = Status(500, "Internal server error")
_INTERNAL_DETAIL = "the server failed to handle the request; quote the request id if you report it"


def status_for(error: ServiceError) -> Status:
    """The row of :data:`STATUS_TABLE` for ``error``: its own class's, else its nearest base's."""
    return row_for(STATUS_TABLE, error)


def problem_json(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: Mapping[str, str] | None = None,
) -> bytes:
    """The body of a problem, also for the refusals made before Flask sees a request."""
    problem = Problem(
        type=PROBLEM_TYPE_PREFIX + code,
        title=title,
        status=status,
        detail=detail,
        errors=[FieldError(field=f, message=m) for f, m in sorted(errors.items())]
        if errors
        else None,
        request_id=current_request_id(),
    )
    return problem.model_dump_json(exclude_none=True).encode()


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: Mapping[str, str] | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    body = problem_json(status=status, code=code, title=title, detail=detail, errors=errors)
    response = Response(body, status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in headers:
        response.headers[name] = value
    return response


def _service_error(error: ServiceError) -> Response:
    status = status_for(error)
    fields = error.fields if isinstance(error, InvalidInput) else None
    headers = status.headers
    if isinstance(error, RateLimited):
        headers = (*headers, ("Retry-After", str(error.retry_after)))
    return problem_response(
        status=status.code,
        code=error.code,
        title=status.title,
        detail=error.message,
        errors=fields,
        headers=headers,
    )


def _http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    default = ((error.name or "error").lower().replace(" ", "-"), error.name)
    code, title = _HTTP_PROBLEMS.get(status, default)
    # werkzeug's own headers (Allow on a 405) without its HTML content type.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return problem_response(
        status=status,
        code=code,
        title=title,
        detail=error.description or error.name,
        headers=headers,
    )


def _unexpected(error: Exception) -> Response:
    logger.exception("unhandled %s in %s %s", type(error).__name__, request.method, request.path)
    return problem_response(
        status=_INTERNAL.code, code="internal", title=_INTERNAL.title, detail=_INTERNAL_DETAIL
    )


def register_error_handlers(app: Flask) -> None:
    """Flask picks the most specific handler, so each kind above has exactly one."""
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(Exception, _unexpected)
