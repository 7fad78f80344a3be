"""Queries on ``notes``, always scoped to an owner; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Select, bindparam, delete, or_, select, tuple_
from sqlalchemy.orm import Session

from app.db.notes.models import NoteRow
from common.db import fetch_one, plain_read

__all__ = ["NoteRecord", "NoteRepository"]


class NoteRecord(NamedTuple):
    """A note's columns as read, for callers that change nothing."""

    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    body: str
    created_at: dt.datetime
    updated_at: dt.datetime


@functools.cache
def _by_id() -> Select[NoteRow]:
    return select(NoteRow).where(
        NoteRow.id == bindparam("note_id"), NoteRow.owner_id == bindparam("owner_id")
    )


@functools.cache
def _record_by_id() -> Select[uuid.UUID, uuid.UUID, str, str, dt.datetime, dt.datetime]:
    # The most frequent read, so the driver runs it (common.db.fetch_one): no row object, no
    # transaction. The columns in NoteRecord's order.
    return select(
        NoteRow.id,
        NoteRow.owner_id,
        NoteRow.title,
        NoteRow.body,
        NoteRow.created_at,
        NoteRow.updated_at,
    ).where(NoteRow.id == bindparam("note_id"), NoteRow.owner_id == bindparam("owner_id"))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class NoteRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, row: NoteRow) -> NoteRow:
        self._session.add(row)
        self._session.flush()
        return row

    def get(self, owner_id: uuid.UUID, note_id: uuid.UUID) -> NoteRow | None:
        """The note as a row object, to change it."""
        found = self._session.scalars(_by_id(), {"note_id": note_id, "owner_id": owner_id})
        return found.one_or_none()

    def read(self, owner_id: uuid.UUID, note_id: uuid.UUID) -> NoteRecord | None:
        """The note's columns, to show them."""
        row = fetch_one(self._session, _record_by_id(), {"note_id": note_id, "owner_id": owner_id})
        return None if row is None else NoteRecord(*row)

    def page(
        self,
        owner_id: uuid.UUID,
        *,
        before: tuple[dt.datetime, uuid.UUID] | None,
        limit: int,
        text: str | None = None,
    ) -> Sequence[NoteRow]:
        """The owner's notes, newest first, starting before the ``before`` key."""
        query = (
            select(NoteRow)
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
        return self._session.scalars(plain_read(query)).all()

    def delete(self, owner_id: uuid.UUID, note_id: uuid.UUID) -> bool:
        result = self._session.execute(
            delete(NoteRow).where(NoteRow.id == note_id, NoteRow.owner_id == owner_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def delete_all_for_owner(self, owner_id: uuid.UUID) -> int:
        result = self._session.execute(delete(NoteRow).where(NoteRow.owner_id == owner_id))
        return int(result.rowcount)  # type: ignore[attr-defined]
