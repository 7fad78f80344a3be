"""The one table from the error tree to gRPC status codes, and the rich statuses built from it.

Every :class:`~common.errors.ServiceError` becomes the status of its row in
:data:`STATUS_TABLE` (found along its class hierarchy), with the error's message as the
status message and, in the rich status (``grpc-status-details-bin``, read with
``grpc_status.rpc_status.from_call``):

* for every error, a ``google.rpc.ErrorInfo`` whose ``reason`` is the error's
  :attr:`~common.errors.ServiceError.code` (the code REST ends its problem ``type`` with), in
  the domain :data:`ERROR_DOMAIN`: clients tell errors apart by it, finer than the status code;
* for :class:`~common.errors.InvalidInput`, a ``google.rpc.BadRequest`` with one field
  violation per bad field (the same fields REST lists in its problem's ``errors``);
* for :class:`~common.errors.Unavailable` and :class:`~common.errors.RateLimited`, a
  ``google.rpc.RetryInfo`` (REST's ``Retry-After``).

Anything else is a bug: :func:`internal_status` hides it behind a generic INTERNAL. Row for
row the table matches REST's (``app.api.rest.errors``), so a parity suite can compare outcomes:

=====================  ===================  ====
error                  gRPC                 HTTP
=====================  ===================  ====
``Unauthenticated``    UNAUTHENTICATED      401
``PermissionDenied``   PERMISSION_DENIED    403
``NotFound``           NOT_FOUND            404
``Conflict``           ALREADY_EXISTS       409
``InvalidInput``       INVALID_ARGUMENT     422
``RateLimited``        RESOURCE_EXHAUSTED   429
``Unavailable``        UNAVAILABLE          503
other ``ServiceError`` FAILED_PRECONDITION  400
unexpected exception   INTERNAL             500
=====================  ===================  ====
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

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

__all__ = [
    "ERROR_DOMAIN",
    "INTERNAL_MESSAGE",
    "STATUS_TABLE",
    "code_for",
    "internal_status",
    "renamed_fields",
    "status_for",
]

#: The one table: which status code each kind of error is answered with.
STATUS_TABLE: Mapping[type[ServiceError], grpc.StatusCode] = {
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    NotFound: grpc.StatusCode.NOT_FOUND,
    Conflict: grpc.StatusCode.ALREADY_EXISTS,
    InvalidInput: grpc.StatusCode.INVALID_ARGUMENT,
    RateLimited: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    # An error added to the tree without a row of its own: a refusal, not a crash.
    ServiceError: grpc.StatusCode.FAILED_PRECONDITION,
}

#: The ``domain`` of the ``google.rpc.ErrorInfo`` every refusal carries.
ERROR_DOMAIN = "backend.v1"
INTERNAL_MESSAGE = "the server failed to handle the request; quote the request id if you report it"
#: How long a client should wait before retrying after UNAVAILABLE (REST's Retry-After).
RETRY_AFTER_SECONDS = 5


def code_for(error: ServiceError) -> grpc.StatusCode:
    """The row of :data:`STATUS_TABLE` for ``error``: its own class's, else its nearest base's."""
    return row_for(STATUS_TABLE, error)


def status_for(error: ServiceError) -> grpc.Status:
    """The status an RPC that raised ``error`` ends with, details included."""
    code = code_for(error)
    details = [_packed(error_details_pb2.ErrorInfo(reason=error.code, domain=ERROR_DOMAIN))]
    if isinstance(error, InvalidInput) and error.fields:
        violations = [
            error_details_pb2.BadRequest.FieldViolation(field=field, description=problem)
            for field, problem in sorted(error.fields.items())
        ]
        details.append(_packed(error_details_pb2.BadRequest(field_violations=violations)))
    if isinstance(error, Unavailable | RateLimited):
        seconds = error.retry_after if isinstance(error, RateLimited) else RETRY_AFTER_SECONDS
        delay = duration_pb2.Duration(seconds=seconds)
        details.append(_packed(error_details_pb2.RetryInfo(retry_delay=delay)))
    return _rich(code, error.message, details)


def internal_status() -> grpc.Status:
    """The status of an RPC that failed unexpectedly: nothing about the failure itself."""
    return _rich(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE, [])


@contextlib.contextmanager
def renamed_fields(names: Mapping[str, str]) -> Iterator[None]:
    """Report the service layer's field names as this API's: ``{"q": "query"}``."""
    try:
        yield
    except InvalidInput as exc:
        fields = {names.get(field, field): problem for field, problem in exc.fields.items()}
        message = exc.message
        if len(exc.fields) == 1:
            # The single-field message of InvalidInput.for_field starts with the field name.
            [(old, problem)] = exc.fields.items()
            if message == f"{old}: {problem}":
                message = f"{names.get(old, old)}: {problem}"
        raise InvalidInput(message, fields) from exc


def _packed(
    message: error_details_pb2.ErrorInfo
    | error_details_pb2.BadRequest
    | error_details_pb2.RetryInfo,
) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _rich(code: grpc.StatusCode, message: str, details: list[any_pb2.Any]) -> grpc.Status:
    number, _name = code.value
    status: grpc.Status = rpc_status.to_status(
        status_pb2.Status(code=number, message=message, details=details)
    )
    return status
