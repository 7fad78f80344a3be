"""Queries on ``users``, one method each; the caller owns the session and the transaction.

Rows come back as :class:`UserRecord` (the public columns), changes are single statements
that return the changed record, and the hot single-row queries are built once and run through
:func:`common.db.fetch_one` / :func:`common.db.execute_one` (plain SQLAlchemy unless the
database's fast path is on).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import NamedTuple

from sqlalchemy import bindparam, delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db.users.models import UserRow
from common.db import execute_one, fetch_one

__all__ = ["DuplicateEmail", "UserRecord", "UserRepository"]


class DuplicateEmail(Exception):
    """Another user already has this email."""


class UserRecord(NamedTuple):
    """A user's public columns."""

    id: uuid.UUID
    email: str
    display_name: str
    created_at: dt.datetime
    updated_at: dt.datetime


_COLUMNS = (UserRow.id, UserRow.email, UserRow.display_name, UserRow.created_at, UserRow.updated_at)

# Every sign-up runs it. ON CONFLICT DO NOTHING: a sign-up that loses a race to the same email
# gets no row back, rather than an error that would abort the unit of work's transaction.
_INSERT = (
    insert(UserRow)
    .values(
        id=bindparam("id"),
        email=bindparam("email"),
        display_name=bindparam("display_name"),
        password_hash=bindparam("password_hash"),
        created_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
    .on_conflict_do_nothing(index_elements=[UserRow.email])
    .returning(*_COLUMNS)
)
# Every request of a signed-in user that shows them.
_BY_ID = select(*_COLUMNS).where(UserRow.id == bindparam("user_id"))
_BY_EMAIL = select(*_COLUMNS, UserRow.password_hash).where(UserRow.email == bindparam("email"))
_PASSWORD_HASH = select(UserRow.password_hash).where(UserRow.id == bindparam("user_id"))
_RENAME = (
    update(UserRow)
    .where(UserRow.id == bindparam("user_id"))
    .values(display_name=bindparam("display_name"), updated_at=bindparam("now"))
    .returning(*_COLUMNS)
)
_SET_PASSWORD = (
    update(UserRow)
    .where(UserRow.id == bindparam("user_id"))
    .values(password_hash=bindparam("password_hash"), updated_at=bindparam("now"))
    .returning(UserRow.id)
)


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(
        self, *, email: str, display_name: str, password_hash: str, now: dt.datetime
    ) -> UserRecord:
        """Insert a user; raises :class:`DuplicateEmail` if the email is taken (race-safe)."""
        values = {
            "id": uuid.uuid4(),
            "email": email,
            "display_name": display_name,
            "password_hash": password_hash,
            "now": now,
        }
        row = execute_one(self._session, _INSERT, values)
        if row is None:
            raise DuplicateEmail(email)
        return UserRecord(*row)

    def get(self, user_id: uuid.UUID) -> UserRecord | None:
        row = fetch_one(self._session, _BY_ID, {"user_id": user_id})
        return None if row is None else UserRecord(*row)

    def credentials(self, email: str) -> tuple[UserRecord, str] | None:
        """The user with this (normalised) email, and their password hash."""
        row = fetch_one(self._session, _BY_EMAIL, {"email": email})
        return None if row is None else (UserRecord(*row[:-1]), row[-1])

    def password_hash(self, user_id: uuid.UUID) -> str | None:
        row = fetch_one(self._session, _PASSWORD_HASH, {"user_id": user_id})
        return None if row is None else str(row[0])

    def rename(self, user_id: uuid.UUID, display_name: str, now: dt.datetime) -> UserRecord | None:
        values = {"user_id": user_id, "display_name": display_name, "now": now}
        row = execute_one(self._session, _RENAME, values)
        return None if row is None else UserRecord(*row)

    def set_password(self, user_id: uuid.UUID, password_hash: str, now: dt.datetime) -> bool:
        values = {"user_id": user_id, "password_hash": password_hash, "now": now}
        return execute_one(self._session, _SET_PASSWORD, values) is not None

    def page(self, *, after: tuple[dt.datetime, uuid.UUID] | None, limit: int) -> list[UserRecord]:
        """Users in creation order (ties broken by id), starting after the ``after`` key."""
        query = select(*_COLUMNS).order_by(UserRow.created_at, UserRow.id).limit(limit)
        if after is not None:
            query = query.where(tuple_(UserRow.created_at, UserRow.id) > tuple_(*after))
        return [UserRecord(*row) for row in self._session.execute(query)]

    def delete(self, user_id: uuid.UUID) -> bool:
        result = self._session.execute(delete(UserRow).where(UserRow.id == user_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]
