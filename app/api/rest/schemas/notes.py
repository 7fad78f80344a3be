"""The JSON of notes: a new note, a change to one, the list's query string, notes and pages."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from app.api.rest.schemas.base import (
    NON_BLANK,
    TEXT,
    Query,
    RequestBody,
    Response,
    described,
    patch_member,
)
from app.service.notes.service import MAX_BODY_LENGTH, MAX_QUERY_LENGTH, MAX_TITLE_LENGTH, Note
from app.service.pagination import DEFAULT_PAGE_SIZE, MAX_CURSOR_LENGTH, MAX_PAGE_SIZE, Page

__all__ = ["NoteIn", "NoteOut", "NotePage", "NotePatch", "NotesQuery"]

_TITLE = f"1 to {MAX_TITLE_LENGTH} characters, trimmed."
_BODY = f"At most {MAX_BODY_LENGTH} characters, trimmed."


_TITLE_RULES = {"maxLength": MAX_TITLE_LENGTH, "pattern": NON_BLANK}
_BODY_RULES = {"maxLength": MAX_BODY_LENGTH, "pattern": TEXT}


class NoteIn(RequestBody):
    title: str = described(_TITLE, **_TITLE_RULES)
    body: str = described(_BODY, "", **_BODY_RULES)


class NotePatch(RequestBody):
    """Only the fields sent change."""

    title: str = patch_member(_TITLE, **_TITLE_RULES)
    body: str = patch_member(_BODY, **_BODY_RULES)


class NotesQuery(Query):
    cursor: str = described(
        "`next_cursor` of the previous page; omit for the first. Opaque: only a cursor this "
        "service issued is accepted.",
        "",
        maxLength=MAX_CURSOR_LENGTH,
        pattern="^([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)?$",
    )
    limit: int = Field(
        default=DEFAULT_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description="Page size.",
    )
    q: str = described(
        f"Only notes whose title or body contains this text (at most {MAX_QUERY_LENGTH} characters).",
        "",
        maxLength=MAX_QUERY_LENGTH,
        pattern=TEXT,
    )


class NoteOut(Response):
    id: uuid.UUID
    title: str
    body: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, note: Note) -> NoteOut:
        return cls(
            id=note.id,
            title=note.title,
            body=note.body,
            created_at=note.created_at,
            updated_at=note.updated_at,
        )


class NotePage(Response):
    """Newest first."""

    items: list[NoteOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last."
    )

    @classmethod
    def of(cls, page: Page[Note]) -> NotePage:
        return cls(items=[NoteOut.of(note) for note in page.items], next_cursor=page.next_cursor)
