"""Users: register, read, list, update the profile, change the password, delete.

Public methods commit their own transaction. Other features hear about sign-ups, deletions
and password changes through :class:`UserEvents` listeners, called inside that transaction.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.db.users.repository import DuplicateEmail, UserRecord, UserRepository
from app.service.pagination import Cursors, Page, check_limit
from app.service.users.passwords import PasswordHasher
from app.service.validation import FieldErrors, parse_id, require_text, storable_text
from common.db import transaction
from common.errors import Conflict, InvalidInput, NotFound, Unauthenticated

__all__ = ["User", "UserEvents", "UsersService", "normalize_email"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 320
MAX_DISPLAY_NAME_LENGTH = 100

UserListener = Callable[[uuid.UUID], None]


@dataclass(frozen=True, slots=True)
class User:
    id: uuid.UUID
    email: str
    display_name: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: UserRecord) -> User:
        return cls(row.id, row.email, row.display_name, row.created_at, row.updated_at)


@dataclass
class UserEvents:
    """Listeners other features register in the composition root."""

    registered: list[UserListener] = field(default_factory=list)
    deleted: list[UserListener] = field(default_factory=list)
    password_changed: list[UserListener] = field(default_factory=list)


def normalize_email(email: str) -> str:
    """Trimmed and lower-cased, so uniqueness is case-insensitive."""
    value = storable_text("email", email).strip().lower()
    if len(value) > MAX_EMAIL_LENGTH or not _EMAIL.match(value):
        raise InvalidInput.for_field("email", "is not a valid email address")
    return value


class UsersService:
    def __init__(
        self,
        session: Session,
        passwords: PasswordHasher,
        *,
        clock: Callable[[], dt.datetime],
        cursors: Cursors,
        events: UserEvents | None = None,
    ) -> None:
        self._session = session
        self._users = UserRepository(session)
        self._passwords = passwords
        self._clock = clock
        self._cursors = cursors
        self._events = events or UserEvents()

    def register(self, *, email: str, display_name: str, password: str) -> User:
        errors = FieldErrors()
        normalized = errors.check(lambda: normalize_email(email), default="")
        display = errors.check(lambda: _display_name(display_name), default="")
        errors.check(lambda: self._check_password(password, email=normalized), default=None)
        errors.raise_if_any("the sign-up data is invalid")
        password_hash = self._passwords.hash(password)
        with transaction(self._session):
            try:
                row = self._users.add(
                    email=normalized,
                    display_name=display,
                    password_hash=password_hash,
                    now=self._clock(),
                )
            except DuplicateEmail as exc:
                raise Conflict("a user with this email already exists") from exc
            for listener in self._events.registered:
                listener(row.id)
            return User.from_row(row)

    def get(self, user_id: str | uuid.UUID) -> User:
        return User.from_row(self._record(user_id))

    def list(self, *, cursor: str | None = None, limit: int | None = None) -> Page[User]:
        size = check_limit(limit)
        rows = self._users.page(after=self._cursors.decode(cursor), limit=size + 1)
        return self._cursors.page([User.from_row(row) for row in rows], size)

    def update_profile(self, user_id: str | uuid.UUID, *, display_name: str) -> User:
        display = _display_name(display_name)
        with transaction(self._session):
            record = self._users.rename(parse_id(user_id, what="user"), display, self._clock())
            if record is None:
                raise NotFound("user not found")
            return User.from_row(record)

    def change_password(
        self, user_id: str | uuid.UUID, *, current_password: str, new_password: str
    ) -> None:
        """Requires the current password; listeners (auth) revoke the user's tokens."""
        storable_text("current_password", current_password)
        with transaction(self._session):
            user = self._record(user_id)
            if not self._passwords.verify(self._users.password_hash(user.id), current_password):
                raise InvalidInput.for_field("current_password", "is not the current password")
            self._check_password(new_password, email=user.email, field="new_password")
            self._users.set_password(user.id, self._passwords.hash(new_password), self._clock())
            for listener in self._events.password_changed:
                listener(user.id)

    def delete(self, user_id: str | uuid.UUID) -> None:
        """Delete the user and, in the same transaction, what other features keep for them."""
        with transaction(self._session):
            user = self._record(user_id)
            for listener in self._events.deleted:
                listener(user.id)
            self._users.delete(user.id)

    def authenticate(self, *, email: str, password: str) -> User:
        """The user with these credentials; the same error whether the email exists or not."""
        try:
            normalized = normalize_email(email)
        except InvalidInput:
            normalized = ""
        found = self._users.credentials(normalized) if normalized else None
        if not self._passwords.verify(found[1] if found else None, password) or found is None:
            raise Unauthenticated("wrong email or password")
        record, password_hash = found
        if self._passwords.needs_rehash(password_hash):
            with transaction(self._session):
                self._users.set_password(record.id, self._passwords.hash(password), self._clock())
        return User.from_row(record)

    def exists(self, user_id: str | uuid.UUID) -> bool:
        """Whether the user exists; a malformed id names no one."""
        try:
            parsed = parse_id(user_id, what="user")
        except NotFound:
            return False
        return self._users.get(parsed) is not None

    def _check_password(self, password: str, *, email: str, field: str = "password") -> None:
        self._passwords.check_strength(storable_text(field, password), email=email, field=field)

    def _record(self, user_id: str | uuid.UUID) -> UserRecord:
        record = self._users.get(parse_id(user_id, what="user"))
        if record is None:
            raise NotFound("user not found")
        return record


def _display_name(value: str) -> str:
    return require_text("display_name", value, max_length=MAX_DISPLAY_NAME_LENGTH)
