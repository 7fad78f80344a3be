"""Queries on ``auth_tokens`` and ``auth_login_throttle``; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import cast

from sqlalchemy import Table, bindparam, case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db.auth.models import LoginThrottleRow, TokenRow
from common.db import fetch_one

__all__ = ["LoginThrottleRepository", "TokenRepository"]


# Every authenticated request runs it.
_ACTIVE_USER_ID = select(TokenRow.user_id).where(
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
        row = fetch_one(self._session, _ACTIVE_USER_ID, {"token_hash": token_hash, "now": now})
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


class LoginThrottleRepository:
    """Failed log-ins per key in a fixed window that starts at a key's first failure."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def failures_since(
        self, keys: Iterable[str], since: dt.datetime
    ) -> dict[str, tuple[int, dt.datetime]]:
        """``{key: (failures, window start)}`` for the keys whose window started after ``since``."""
        query = select(
            LoginThrottleRow.key, LoginThrottleRow.failures, LoginThrottleRow.window_started_at
        ).where(LoginThrottleRow.key.in_(list(keys)), LoginThrottleRow.window_started_at > since)
        return {key: (failures, started) for key, failures, started in self._session.execute(query)}

    def record_failure(self, key: str, now: dt.datetime, window_before: dt.datetime) -> None:
        """Count one failure; a window that started at or before ``window_before`` starts anew."""
        table = cast(Table, LoginThrottleRow.__table__)
        statement = insert(table).values(key=key, failures=1, window_started_at=now)
        expired = table.c.window_started_at <= window_before
        self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "failures": case((expired, 1), else_=table.c.failures + 1),
                    "window_started_at": case((expired, now), else_=table.c.window_started_at),
                },
            )
        )

    def forget(self, key: str) -> None:
        self._session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.key == key))

    def purge(self, window_before: dt.datetime) -> int:
        """Delete the counts whose window ended."""
        result = self._session.execute(
            delete(LoginThrottleRow).where(LoginThrottleRow.window_started_at <= window_before)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
