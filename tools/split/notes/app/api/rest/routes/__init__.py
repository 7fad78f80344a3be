"""The route table: every REST operation with its models and statuses, in one place.

Each feature declares its rows in a module of its own; this package gathers those of the
features this service serves (notes), and names the API.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from app.api.rest.routes import base, notes
from app.api.rest.routes.operation import Operation

__all__ = ["API_DESCRIPTION", "API_TITLE", "OPERATIONS", "Operation", "declared_operation"]

API_TITLE = "backend-notes"
API_DESCRIPTION = "Notes; tokens come from the users service. Errors are RFC 9457 problem details."

OPERATIONS: tuple[Operation, ...] = (*notes.OPERATIONS, *base.OPERATIONS)


@functools.cache
def _by_endpoint() -> Mapping[str, Operation]:
    return {operation.endpoint: operation for operation in OPERATIONS}


def declared_operation(endpoint: str | None) -> Operation:
    """The table's row for a Flask endpoint."""
    try:
        return _by_endpoint()[endpoint or ""]
    except KeyError:
        raise LookupError(f"no operation is declared for endpoint {endpoint!r}") from None
