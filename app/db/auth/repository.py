"""Queries on ``auth_tokens``; the caller owns the session and the transaction."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from app.db.auth.models import TokenRow

__all__ = ["TokenRepository"]


class TokenRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, row: TokenRow) -> TokenRow:
        self._session.add(row)
        self._session.flush()
        return row

    def find_active(self, token_hash: bytes, now: dt.datetime) -> TokenRow | None:
        query = select(TokenRow).where(
            TokenRow.token_hash == token_hash,
            TokenRow.revoked_at.is_(None),
            TokenRow.expires_at > now,
        )
        return self._session.scalars(query).one_or_none()

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
