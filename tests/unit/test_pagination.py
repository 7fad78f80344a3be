from __future__ import annotations

import datetime as dt
import uuid

import pytest

from app.service.pagination import MAX_PAGE_SIZE, check_limit, decode_cursor, encode_cursor
from app.service.users.service import normalize_email
from app.service.validation import parse_id, require_text
from common.errors import InvalidInput, NotFound


def test_cursor_round_trip() -> None:
    stamp = dt.datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
    row_id = uuid.uuid4()
    assert decode_cursor(encode_cursor(stamp, row_id)) == (stamp, row_id)
    assert decode_cursor(None) is None
    assert decode_cursor("") is None


@pytest.mark.parametrize("cursor", ["!!!", "bm90IGpzb24", "WyJ4IiwgInkiXQ", "WzEsMiwzXQ"])
def test_foreign_cursors_are_invalid_input(cursor: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_cursor(cursor)
    assert "cursor" in caught.value.fields


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
    assert require_text("body", "", max_length=5, allow_empty=True) == ""
    known = uuid.uuid4()
    assert parse_id(str(known), what="note") == known
    with pytest.raises(NotFound, match="note not found"):
        parse_id("42", what="note")
