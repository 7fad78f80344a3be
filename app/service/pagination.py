"""Keyset pagination: the page type every list operation returns, and its signed cursors.

A cursor is the last row's sort key, ``(created_at, id)``, as JSON in base64url, followed by
an HMAC of it under the service's ``SECRET_KEY``: a cursor this service did not issue, or one
changed on the way, is refused before anything in it is read. A cursor is short, so anything
longer than :data:`MAX_CURSOR_LENGTH` is refused without being decoded at all.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from common.errors import InvalidInput

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_CURSOR_LENGTH",
    "MAX_PAGE_SIZE",
    "Cursors",
    "Listed",
    "Page",
    "SortKey",
    "check_limit",
]

T = TypeVar("T")
#: The order lists are kept in, and what a cursor holds: the last row's creation time and id.
SortKey = tuple[dt.datetime, uuid.UUID]


class Listed(Protocol):
    """What a listed item has: the parts of its sort key."""

    @property
    def created_at(self) -> dt.datetime: ...

    @property
    def id(self) -> uuid.UUID: ...


ListedT = TypeVar("ListedT", bound=Listed)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
#: Longer than any cursor this service issues (they are about 110 characters).
MAX_CURSOR_LENGTH = 200
_CURSOR = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_MAC_BYTES = 16
_INVALID = "is not a cursor this service issued"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    #: Pass back as ``cursor`` for the next page; ``None`` on the last page.
    next_cursor: str | None


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput.for_field("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    return limit


class Cursors:
    """Issues and reads the cursors of every list, signed with a key derived from ``secret``."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"pagination cursors", hashlib.sha256).digest()

    def encode(self, key: SortKey) -> str:
        created_at, row_id = key
        payload = json.dumps([created_at.isoformat(), str(row_id)], separators=(",", ":"))
        raw = payload.encode()
        return f"{_b64(raw)}.{_b64(self._mac(raw))}"

    def decode(self, cursor: str | None) -> SortKey | None:
        """The sort key a cursor holds; ``None`` for no cursor; ``InvalidInput`` otherwise."""
        if not cursor:
            return None
        if len(cursor) > MAX_CURSOR_LENGTH or not _CURSOR.fullmatch(cursor):
            raise InvalidInput.for_field("cursor", _INVALID)
        payload, _, mac = cursor.partition(".")
        try:
            raw, signature = _unb64(payload), _unb64(mac)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput.for_field("cursor", _INVALID) from exc
        # One spelling per cursor: base64 leaves spare bits in a last character, which must
        # not make another cursor of the same one.
        if _b64(signature) != mac or not hmac.compare_digest(signature, self._mac(raw)):
            raise InvalidInput.for_field("cursor", _INVALID)
        # Signed by this service, so it has the shape encode() gives it; checked all the same.
        try:
            stamp, row_id = json.loads(raw)
            created_at = dt.datetime.fromisoformat(stamp)
            if created_at.tzinfo is None:
                raise ValueError("naive timestamp")
            return created_at, uuid.UUID(row_id)
        except (ValueError, TypeError, AttributeError) as exc:
            raise InvalidInput.for_field("cursor", _INVALID) from exc

    def page(self, fetched: Sequence[ListedT], size: int) -> Page[ListedT]:
        """The page of ``size`` items; ``fetched`` holds one more when more follow."""
        items = fetched[:size]
        last = items[-1] if len(fetched) > size and items else None
        return Page(items, None if last is None else self.encode((last.created_at, last.id)))

    def _mac(self, raw: bytes) -> bytes:
        return hmac.new(self._key, raw, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
