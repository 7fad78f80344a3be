"""The transport-free error tree raised by service layers.

Adapters map these to their own statuses in one table each (HTTP, gRPC); nothing below the
adapters knows about transports::

    ServiceError                 base of everything a service raises on purpose
    ├── NotFound                 the thing does not exist (or the caller may not know it does)
    ├── Conflict                 the request clashes with the current state (duplicate, stale)
    ├── InvalidInput             the request is malformed; ``fields`` says what, per field
    ├── Unauthenticated          no valid credentials (missing, wrong, expired or revoked)
    ├── PermissionDenied         valid credentials, not allowed to do this
    ├── RateLimited              too many attempts; ``retry_after`` says when to try again
    └── Unavailable              a dependency (database, another service) cannot be reached
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

__all__ = [
    "Conflict",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ServiceError",
    "Unauthenticated",
    "Unavailable",
    "row_for",
]

RowT = TypeVar("RowT")


class ServiceError(Exception):
    """Base of the tree: an expected failure whose message is safe to show to a caller."""

    #: A stable, machine-readable code (used as the last part of problem ``type`` URIs).
    code: str = "service-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    code = "not-found"


class Conflict(ServiceError):
    code = "conflict"


class InvalidInput(ServiceError):
    """A request that cannot be served as sent; ``fields`` maps a field name to what is wrong."""

    code = "invalid-input"

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields: dict[str, str] = dict(fields or {})

    @classmethod
    def for_field(cls, field: str, problem: str) -> InvalidInput:
        return cls(f"{field}: {problem}", {field: problem})


class Unauthenticated(ServiceError):
    code = "unauthenticated"


class PermissionDenied(ServiceError):
    code = "permission-denied"


class RateLimited(ServiceError):
    """Too many attempts in a while; ``retry_after`` is the number of seconds to wait."""

    code = "rate-limited"

    def __init__(self, message: str, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Unavailable(ServiceError):
    code = "unavailable"


def row_for(table: Mapping[type[ServiceError], RowT], error: ServiceError) -> RowT:
    """The row of a transport's error table for ``error``: its own class's, else its nearest
    base's (the table has one for :class:`ServiceError` itself, so every error finds one)."""
    for cls in type(error).__mro__:
        if cls in table:
            return table[cls]
    raise LookupError(f"{type(error).__name__} has no row in the table")
