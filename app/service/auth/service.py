"""Auth: log in for an opaque bearer token, resolve it to its user, revoke it, purge old ones.

Tokens are random (256 bits); only their SHA-256 is stored, so a database leak yields no
usable token. Expired and revoked tokens are rejected as :class:`Unauthenticated`.

Log-ins are throttled (:class:`LoginThrottle`): failed attempts are counted per account and
per client address in the database, so every process and replica shares the count; past the
limit, every attempt on that account or from that address is refused with
:class:`RateLimited` until the window ends, before the password is even checked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.db.auth.models import TokenRow
from app.db.auth.repository import LoginThrottleRepository, TokenRepository
from app.service.users.service import User, UsersService, normalize_email
from app.service.validation import storable_text
from common.db import transaction
from common.errors import InvalidInput, RateLimited, Unauthenticated

__all__ = ["AuthService", "IssuedToken", "LoginThrottle"]

_MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: dt.datetime
    user: User


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    """How many failed log-ins a window allows, per account and per client address."""

    per_account: int = 10
    per_address: int = 100
    window: dt.timedelta = dt.timedelta(minutes=15)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _throttle_key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


class AuthService:
    def __init__(
        self,
        session: Session,
        users: UsersService,
        *,
        token_ttl: dt.timedelta,
        clock: Callable[[], dt.datetime],
        throttle: LoginThrottle | None = None,
    ) -> None:
        self._session = session
        self._tokens = TokenRepository(session)
        self._attempts = LoginThrottleRepository(session)
        self._users = users
        self._ttl = token_ttl
        self._clock = clock
        self._throttle = throttle or LoginThrottle()

    def login(self, *, email: str, password: str, client_address: str | None = None) -> IssuedToken:
        """A new token for these credentials; ``client_address`` counts toward the throttle."""
        storable_text("email", email)
        storable_text("password", password)
        limits = self._limits(email, client_address)
        now = self._clock()
        window_before = now - self._throttle.window
        self._refuse_when_throttled(limits, now, window_before)
        try:
            user = self._users.authenticate(email=email, password=password)
        except Unauthenticated:
            with transaction(self._session):
                for key in limits:
                    self._attempts.record_failure(key, now, window_before)
            raise
        token = secrets.token_urlsafe(32)
        with transaction(self._session):
            self._attempts.forget(next(iter(limits)))  # the account's count, not the address's
            row = self._tokens.add(
                TokenRow(
                    user_id=user.id,
                    token_hash=_digest(token),
                    created_at=now,
                    expires_at=now + self._ttl,
                )
            )
            return IssuedToken(token=token, expires_at=row.expires_at, user=user)

    def _limits(self, email: str, client_address: str | None) -> dict[str, int]:
        """The throttle's keys for this attempt, the account's first, with their limits."""
        try:
            account = normalize_email(email)
        except InvalidInput:
            account = email.strip().lower()
        limits = {_throttle_key("account", account): self._throttle.per_account}
        if client_address:
            limits[_throttle_key("address", client_address)] = self._throttle.per_address
        return limits

    def _refuse_when_throttled(
        self, limits: dict[str, int], now: dt.datetime, window_before: dt.datetime
    ) -> None:
        counted = self._attempts.failures_since(limits, window_before)
        ends = [
            started + self._throttle.window
            for key, (failures, started) in counted.items()
            if failures >= limits[key]
        ]
        if ends:
            wait = math.ceil((max(ends) - now).total_seconds())
            raise RateLimited("too many failed log-ins: try again later", retry_after=max(1, wait))

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
        """Delete expired and revoked tokens and ended throttle windows; how many tokens."""
        now = self._clock()
        with transaction(self._session):
            self._attempts.purge(now - self._throttle.window)
            return self._tokens.purge(now)
