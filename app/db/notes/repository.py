"""Queries on ``notes``, always scoped to an owner, one method each; the caller owns the transaction.

Rows come back as :class:`NoteRecord`; changes are single statements that return the changed
record; the hot single-row queries are built once and run through :func:`common.db.fetch_one`
/ :func:`common.db.execute_one` (plain SQLAlchemy unless the database's fast path is on).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import NamedTuple

from sqlalchemy import bindparam, delete, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from app.db.notes.models import NoteRow
from common.db import execute_one, fetch_one

__all__ = ["NoteRecord", "NoteRepository"]


class NoteRecord(NamedTuple):
    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    body: str
    created_at: dt.datetime
    updated_at: dt.datetime


_COLUMNS = (
    NoteRow.id,
    NoteRow.owner_id,
    NoteRow.title,
    NoteRow.body,
    NoteRow.created_at,
    NoteRow.updated_at,
)
_OWN_NOTE = (NoteRow.id == bindparam("note_id"), NoteRow.owner_id == bindparam("owner_id"))
_INSERT = (
    insert(NoteRow)
    .values(
        id=bindparam("note_id"),
        owner_id=bindparam("owner_id"),
        title=bindparam("title"),
        body=bindparam("body"),
        created_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
    .returning(*_COLUMNS)
)
# The most frequent query of all: every read of one note.
_BY_ID = select(*_COLUMNS).where(*_OWN_NOTE)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class NoteRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, owner_id: uuid.UUID, *, title: str, body: str, now: dt.datetime) -> NoteRecord:
        values = {"note_id": uuid.uuid4(), "owner_id": owner_id, "title": title, "body": body}
        row = execute_one(self._session, _INSERT, {**values, "now": now})
        assert row is not None  # noqa: S101 - INSERT ... RETURNING returns the row it inserted
        return NoteRecord(*row)

    def get(self, owner_id: uuid.UUID, note_id: uuid.UUID) -> NoteRecord | None:
        """The owner's note with this id; another owner's is ``None``, as a missing one."""
        row = fetch_one(self._session, _BY_ID, {"note_id": note_id, "owner_id": owner_id})
        return None if row is None else NoteRecord(*row)

    def update(
        self, owner_id: uuid.UUID, note_id: uuid.UUID, changes: dict[str, str], now: dt.datetime
    ) -> NoteRecord | None:
        """Set the ``changes`` (title, body) and ``updated_at``; ``None`` when no such note."""
        statement = (
            update(NoteRow)
            .where(NoteRow.id == note_id, NoteRow.owner_id == owner_id)
            .values(**changes, updated_at=now)
            .returning(*_COLUMNS)
        )
        row = self._session.execute(statement).first()
        return None if row is None else NoteRecord(*row)

    def page(
        self,
        owner_id: uuid.UUID,
        *,
        before: tuple[dt.datetime, uuid.UUID] | None,
        limit: int,
        text: str | None = None,
    ) -> list[NoteRecord]:
        """The owner's notes, newest first, starting before the ``before`` key."""
        query = (
            select(*_COLUMNS)
            .where(NoteRow.owner_id == owner_id)
            .order_by(NoteRow.created_at.desc(), NoteRow.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(tuple_(NoteRow.created_at, NoteRow.id) < tuple_(*before))
        if text:
            pattern = f"%{_escape_like(text)}%"
            query = query.where(
                or_(
                    NoteRow.title.ilike(pattern, escape="\\"),
                    NoteRow.body.ilike(pattern, escape="\\"),
                )
            )
        return [NoteRecord(*row) for row in self._session.execute(query)]

    def delete(self, owner_id: uuid.UUID, note_id: uuid.UUID) -> bool:
        result = self._session.execute(
            delete(NoteRow).where(NoteRow.id == note_id, NoteRow.owner_id == owner_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def delete_all_for_owner(self, owner_id: uuid.UUID) -> int:
        result = self._session.execute(delete(NoteRow).where(NoteRow.owner_id == owner_id))
        return int(result.rowcount)  # type: ignore[attr-defined]
