"""Auth: log in for an opaque bearer token, resolve it to its user, revoke it, purge old ones.

Tokens are random (256 bits); only their SHA-256 is stored, so a database leak yields no
usable token. Expired and revoked tokens are rejected as :class:`Unauthenticated`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.db.auth.models import TokenRow
from app.db.auth.repository import TokenRepository
from app.service.users.service import User, UsersService
from common.db import transaction
from common.errors import Unauthenticated

__all__ = ["AuthService", "IssuedToken"]

_MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    user: User


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class AuthService:
    def __init__(
        self,
        session: Session,
        users: UsersService,
        *,
        token_ttl: dt.timedelta,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._session = session
        self._tokens = TokenRepository(session)
        self._users = users
        self._ttl = token_ttl
        self._clock = clock

    def login(self, *, email: str, password: str) -> IssuedToken:
        user = self._users.authenticate(email=email, password=password)
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with transaction(self._session):
            row = self._tokens.add(
                TokenRow(
                    user_id=user.id,
                    token_hash=_digest(token),
                    created_at=now,
                    expires_at=now + self._ttl,
                )
            )
            return IssuedToken(token=token, expires_at=row.expires_at, user=user)

    def resolve(self, token: str | None) -> User:
        """The user a bearer token belongs to."""
        return self._users.get(self.resolve_user_id(token))

    def resolve_user_id(self, token: str | None) -> uuid.UUID:
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            raise Unauthenticated("a valid bearer token is required")
        user_id = self._tokens.active_user_id(_digest(token), self._clock())
        if user_id is None:
            raise Unauthenticated("the token is invalid, expired or revoked")
        return user_id

    def revoke(self, token: str) -> None:
        with transaction(self._session):
            if not token or not self._tokens.revoke(_digest(token), self._clock()):
                raise Unauthenticated("the token is invalid, expired or revoked")

    def revoke_all_for_user(self, user_id: uuid.UUID) -> None:
        """Listener for password changes; runs inside the caller's transaction."""
        self._tokens.revoke_all_for_user(user_id, self._clock())

    def purge_expired(self) -> int:
        """Delete expired and revoked tokens; returns how many."""
        with transaction(self._session):
            return self._tokens.purge(self._clock())
