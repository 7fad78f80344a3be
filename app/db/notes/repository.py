"""Queries on ``notes``, always scoped to an owner; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import delete, or_, select, tuple_
from sqlalchemy.orm import Session

from app.db.notes.models import NoteRow

__all__ = ["NoteRepository"]


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
        query = select(NoteRow).where(NoteRow.id == note_id, NoteRow.owner_id == owner_id)
        return self._session.scalars(query).one_or_none()

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
        return self._session.scalars(query).all()

    def delete(self, owner_id: uuid.UUID, note_id: uuid.UUID) -> bool:
        result = self._session.execute(
            delete(NoteRow).where(NoteRow.id == note_id, NoteRow.owner_id == owner_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def delete_all_for_owner(self, owner_id: uuid.UUID) -> int:
        result = self._session.execute(delete(NoteRow).where(NoteRow.owner_id == owner_id))
        return int(result.rowcount)  # type: ignore[attr-defined]
