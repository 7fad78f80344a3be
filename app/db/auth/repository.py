"""Queries on ``auth_tokens``; the caller owns the session and the transaction."""

from __future__ import annotations

import datetime as dt
import functools
import uuid

from sqlalchemy import Select, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from app.db.auth.models import TokenRow
from common.db import fetch_one

__all__ = ["TokenRepository"]


@functools.cache
def _active_user_id() -> Select[uuid.UUID]:
    # Every authenticated request runs this, so it is built once and the driver runs it
    # (common.db.fetch_one): one column, no row object, no transaction.
    return select(TokenRow.user_id).where(
        TokenRow.token_hash == bindparam("token_hash"),
        TokenRow.revoked_at.is_(None),
        TokenRow.expires_at > bindparam("now"),
    )


class TokenRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, row: TokenRow) -> TokenRow:
        self._session.add(row)
        self._session.flush()
        return row

    def active_user_id(self, token_hash: bytes, now: dt.datetime) -> uuid.UUID | None:
        """The user of the token with this hash, unless it expired or was revoked by ``now``."""
        row = fetch_one(self._session, _active_user_id(), {"token_hash": token_hash, "now": now})
        if row is None:
            return None
        user_id: uuid.UUID = row[0]
        return user_id

    def revoke(self, token_hash: bytes, now: dt.datetime) -> bool:
        result = self._session.execute(
            update(TokenRow)
            .where(TokenRow.token_hash == token_hash, TokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def revoke_all_for_user(self, user_id: uuid.UUID, now: dt.datetime) -> int:
        result = self._session.execute(
            update(TokenRow)
            .where(TokenRow.user_id == user_id, TokenRow.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def purge(self, now: dt.datetime) -> int:
        """Delete expired and revoked tokens."""
        result = self._session.execute(
            delete(TokenRow).where(
                or_(TokenRow.expires_at <= now, TokenRow.revoked_at.is_not(None))
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
