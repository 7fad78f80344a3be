"""Queries on ``users``; the caller owns the session and the transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db.users.models import UserRow
from common.db import PLAIN_READ, plain_read

__all__ = ["DuplicateEmail", "UserRepository"]


class DuplicateEmail(Exception):
    """Another user already has this email."""


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self, *, email: str, display_name: str, password_hash: str, now: dt.datetime
    ) -> UserRow:
        """Insert a user; raises :class:`DuplicateEmail` if the email is taken (race-safe)."""
        statement = (
            insert(UserRow)
            .values(
                id=uuid.uuid4(),
                email=email,
                display_name=display_name,
                password_hash=password_hash,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=[UserRow.email])
            .returning(UserRow)
        )
        row = self._session.scalars(statement).one_or_none()
        if row is None:
            raise DuplicateEmail(email)
        return row

    # The reads are plain reads (common.db.plain_read): a unit of work that only reads opens
    # no transaction; one that goes on to write opens it at its first write.
    def get(self, user_id: uuid.UUID) -> UserRow | None:
        return self._session.get(UserRow, user_id, execution_options=PLAIN_READ)

    def get_by_email(self, email: str) -> UserRow | None:
        query = plain_read(select(UserRow).where(UserRow.email == email))
        return self._session.scalars(query).one_or_none()

    def page(self, *, after: tuple[dt.datetime, uuid.UUID] | None, limit: int) -> Sequence[UserRow]:
        """Users in creation order (ties broken by id), starting after the ``after`` key."""
        query = select(UserRow).order_by(UserRow.created_at, UserRow.id).limit(limit)
        if after is not None:
            query = query.where(tuple_(UserRow.created_at, UserRow.id) > tuple_(*after))
        return self._session.scalars(plain_read(query)).all()

    def delete(self, user_id: uuid.UUID) -> bool:
        result = self._session.execute(delete(UserRow).where(UserRow.id == user_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]
