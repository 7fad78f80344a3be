"""Checks on plain values shared by features, each raising ``InvalidInput`` for its field."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from common.errors import InvalidInput, NotFound

__all__ = ["FieldErrors", "parse_id", "require_text"]

T = TypeVar("T")


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


def require_text(field: str, value: str, *, max_length: int, allow_empty: bool = False) -> str:
    """``value`` trimmed; refuses empty (unless allowed), over-long and NUL-containing text."""
    if not isinstance(value, str):
        raise InvalidInput.for_field(field, "must be a string")
    text = value.strip()
    if not text and not allow_empty:
        raise InvalidInput.for_field(field, "must not be empty")
    if len(text) > max_length:
        raise InvalidInput.for_field(field, f"must be at most {max_length} characters")
    if "\x00" in text:
        raise InvalidInput.for_field(field, "must not contain NUL characters")
    return text


def parse_id(value: str | uuid.UUID, *, what: str) -> uuid.UUID:
    """An id from a caller; a malformed one names nothing that exists, so it is not found."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError) as exc:
        raise NotFound(f"{what} not found") from exc
