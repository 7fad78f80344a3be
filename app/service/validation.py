"""Checks on plain values shared by features, each raising ``InvalidInput`` for its field."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import TypeVar

from common.errors import InvalidInput, NotFound

__all__ = ["FieldErrors", "parse_id", "require_text", "storable_text"]

T = TypeVar("T")

#: What no UTF-8 text can hold: lone surrogates (a JSON or protobuf parser refuses them).
_SURROGATE = re.compile("[\ud800-\udfff]")


class FieldErrors:
    """Collects per-field problems so one response can name all of them."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def check(self, func: Callable[[], T], *, default: T) -> T:
        """``func()``, or ``default`` after recording the fields it found invalid."""
        try:
            return func()
        except InvalidInput as exc:
            self.fields.update(exc.fields)
            return default

    def raise_if_any(self, message: str) -> None:
        if self.fields:
            raise InvalidInput(message, self.fields)


def storable_text(field: str, value: object) -> str:
    """``value`` as it is, when it is text the database can store; else ``InvalidInput``.

    Every text a caller sends goes through here before it reaches a query, stored or not:
    PostgreSQL refuses NUL characters outright, and a driver error is no answer to a caller.
    """
    if not isinstance(value, str):
        raise InvalidInput.for_field(field, "must be a string")
    if "\x00" in value:  # PostgreSQL's text cannot hold it
        raise InvalidInput.for_field(field, "must not contain NUL characters")
    if _SURROGATE.search(value):
        raise InvalidInput.for_field(field, "must be valid Unicode text")
    return value


def require_text(field: str, value: str, *, max_length: int, allow_empty: bool = False) -> str:
    """``value`` trimmed; refuses empty (unless allowed), over-long and unstorable text."""
    text = storable_text(field, value).strip()
    if not text and not allow_empty:
        raise InvalidInput.for_field(field, "must not be empty")
    if len(text) > max_length:
        raise InvalidInput.for_field(field, f"must be at most {max_length} characters")
    return text


def parse_id(value: str | uuid.UUID, *, what: str) -> uuid.UUID:
    """An id from a caller; a malformed one names nothing that exists, so it is not found."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError) as exc:
        raise NotFound(f"{what} not found") from exc
