"""Password hashing (argon2id, cost from settings) and the minimum-strength rule."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from common.errors import InvalidInput

__all__ = ["MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "PasswordHasher", "check_strength"]

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128


class PasswordHasher:
    def __init__(self, *, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
        self._argon2 = _Argon2(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        # Verifying against this keeps a login for an unknown email as slow as a real one.
        self._dummy_hash = self._argon2.hash("not a password of anyone")

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash or self._dummy_hash, password) and (
                password_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._argon2.check_needs_rehash(password_hash)


def check_strength(password: str, *, email: str = "", field: str = "password") -> None:
    """At least 10 characters, not only one kind of character, not the email's name part."""
    if not isinstance(password, str):
        raise InvalidInput.for_field(field, "must be a string")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.for_field(field, f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput.for_field(field, f"must be at most {MAX_PASSWORD_LENGTH} characters")
    kinds = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if kinds < 2 or len(set(password)) < 5:
        raise InvalidInput.for_field(
            field, "is too weak: mix letters with digits, capitals or symbols"
        )
    local = email.partition("@")[0].lower()
    if len(local) >= 4 and local in password.lower():
        raise InvalidInput.for_field(field, "must not contain your email address")
