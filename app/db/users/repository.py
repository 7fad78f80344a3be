"""Queries on ``users``; the caller owns the session and the transaction."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from typing import NamedTuple, cast

from sqlalchemy import ClauseElement, Select, Table, bindparam, delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db.users.models import UserRow
from common.db import PLAIN_READ, execute_one, fetch_one, plain_read

__all__ = ["DuplicateEmail", "UserRecord", "UserRepository"]


class DuplicateEmail(Exception):
    """Another user already has this email."""


class UserRecord(NamedTuple):
    """A user's public columns as read or written, for callers that change nothing."""

    id: uuid.UUID
    email: str
    display_name: str
    created_at: dt.datetime
    updated_at: dt.datetime


@functools.cache
def _insert() -> ClauseElement:
    # Every sign-up runs it, so it is built once and the driver runs it (common.db.execute_one):
    # neither the ORM's bulk-insert bookkeeping nor SQLAlchemy's per-statement work, which
    # together cost more than the round trip. Naive datetimes are refused there too.
    table = cast(Table, UserRow.__table__)
    return (
        insert(table)
        .values(
            id=bindparam("id"),
            email=bindparam("email"),
            display_name=bindparam("display_name"),
            password_hash=bindparam("password_hash"),
            created_at=bindparam("now"),
            updated_at=bindparam("now"),
        )
        .on_conflict_do_nothing(index_elements=[table.c.email])
        .returning(
            table.c.id, table.c.email, table.c.display_name, table.c.created_at, table.c.updated_at
        )
    )


@functools.cache
def _record_by_id() -> Select[uuid.UUID, str, str, dt.datetime, dt.datetime]:
    # The most frequent read (every request of a signed-in user through auth), so the driver
    # runs it (common.db.fetch_one): no row object, no transaction. UserRecord's columns.
    return select(
        UserRow.id, UserRow.email, UserRow.display_name, UserRow.created_at, UserRow.updated_at
    ).where(UserRow.id == bindparam("user_id"))


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
        row = execute_one(self._session, _insert(), values)
        if row is None:
            raise DuplicateEmail(email)
        return UserRecord(*row)

    def read(self, user_id: uuid.UUID) -> UserRecord | None:
        """The user's public columns, to show them."""
        row = fetch_one(self._session, _record_by_id(), {"user_id": user_id})
        return None if row is None else UserRecord(*row)

    # The reads are plain reads (common.db.plain_read): a unit of work that only reads opens
    # no transaction; one that goes on to write opens it at its first write.
    def get(self, user_id: uuid.UUID) -> UserRow | None:
        """The user as a row object, to change it."""
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
