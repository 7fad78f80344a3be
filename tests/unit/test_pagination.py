from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import pytest

from app.service.pagination import MAX_CURSOR_LENGTH, MAX_PAGE_SIZE, Cursors, check_limit
from app.service.users.service import normalize_email
from app.service.validation import parse_id, require_text, storable_text
from common.errors import InvalidInput, NotFound

CURSORS = Cursors("a secret key of this service")
STAMP = dt.datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_cursor_round_trip() -> None:
    row_id = uuid.uuid4()
    cursor = CURSORS.encode((STAMP, row_id))
    assert CURSORS.decode(cursor) == (STAMP, row_id)
    assert len(cursor) < MAX_CURSOR_LENGTH
    assert CURSORS.decode(None) is None
    assert CURSORS.decode("") is None


def _changed(cursor: str) -> str:
    """``cursor`` with the last character of its signature another one: only its spare bits
    differ, so it decodes to the same signature, and is refused all the same."""
    return cursor[:-1] + ("B" if cursor.endswith("A") else "A")


def _flipped(cursor: str) -> str:
    """``cursor`` with the first character of its signature another one."""
    payload, _, mac = cursor.partition(".")
    return f"{payload}.{'B' if mac.startswith('A') else 'A'}{mac[1:]}"


def _forged(payload: object) -> str:
    """A cursor with ``payload`` (JSON) and a signature made up by someone without the key."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return f"{_b64(text.encode())}.{_b64(b'0' * 16)}"


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "bm90IGpzb24",
        "WyJ4IiwgInkiXQ",
        "WzEsMiwzXQ",
        _forged([STAMP.isoformat(), 42]),  # an id that is a number
        _forged([STAMP.isoformat(), [1, 2]]),  # or a list
        _forged("[" * 1500 + "]" * 1500),  # nested 1,500 deep
        "a." * 5000,  # far longer than any cursor
        _changed(CURSORS.encode((STAMP, uuid.uuid4()))),  # signed, then spelt otherwise
        _flipped(CURSORS.encode((STAMP, uuid.uuid4()))),  # signed, then changed
        Cursors("another key").encode((STAMP, uuid.uuid4())),  # signed by someone else
    ],
)
def test_foreign_or_tampered_cursors_are_invalid_input(cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        CURSORS.decode(cursor)
    assert caught.value.fields == {"cursor": "is not a cursor this service issued"}


def test_limits() -> None:
    assert check_limit(None) == 20
    assert check_limit(MAX_PAGE_SIZE) == MAX_PAGE_SIZE
    for bad in (0, -1, MAX_PAGE_SIZE + 1):
        with pytest.raises(InvalidInput):
            check_limit(bad)


def test_email_normalisation() -> None:
    assert normalize_email("  Ada@Example.COM ") == "ada@example.com"
    for bad in ("", "ada", "ada@example", "a b@example.com", "x@" + "y" * 320 + ".com"):
        with pytest.raises(InvalidInput):
            normalize_email(bad)


def test_text_and_ids() -> None:
    assert require_text("title", "  hi  ", max_length=5) == "hi"
    with pytest.raises(InvalidInput, match="empty"):
        require_text("title", "   ", max_length=5)
    with pytest.raises(InvalidInput, match="at most"):
        require_text("title", "toolong", max_length=5)
    with pytest.raises(InvalidInput, match="NUL"):
        require_text("title", "a\x00b", max_length=5)
    with pytest.raises(InvalidInput, match="valid Unicode"):
        storable_text("q", "a\ud800b")
    with pytest.raises(InvalidInput, match="NUL"):
        normalize_email("ada\x00@example.com")
    assert require_text("body", "", max_length=5, allow_empty=True) == ""
    known = uuid.uuid4()
    assert parse_id(str(known), what="note") == known
    with pytest.raises(NotFound, match="note not found"):
        parse_id("42", what="note")
