"""Password hashing (argon2id, cost from settings) and the rule a new password must follow.

The rule follows NIST SP 800-63B rather than composition rules: long enough (``PASSWORD_MIN_LENGTH``,
12 by default) and at most :data:`MAX_PASSWORD_LENGTH`, not one of the most common passwords
(the list Django ships, bundled here), and not containing the user's email address. Every
character is allowed but those no text column can hold, which the caller checks first.
"""

from __future__ import annotations

import functools
import gzip
from importlib import resources

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from common.errors import InvalidInput

__all__ = [
    "DEFAULT_MIN_PASSWORD_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "PasswordHasher",
    "is_common",
]

DEFAULT_MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
_COMMON_PASSWORDS = "common-passwords.txt.gz"


@functools.cache
def _common_passwords() -> frozenset[str]:
    data = resources.files(__package__).joinpath(_COMMON_PASSWORDS).read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def is_common(password: str) -> bool:
    """Whether ``password`` (trimmed, any case) is one of the most common passwords."""
    return password.strip().lower() in _common_passwords()


class PasswordHasher:
    def __init__(
        self,
        *,
        time_cost: int,
        memory_cost_kib: int,
        parallelism: int,
        min_length: int = DEFAULT_MIN_PASSWORD_LENGTH,
    ) -> None:
        self._argon2 = _Argon2(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        self.min_length = min_length
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

    def check_strength(self, password: str, *, email: str = "", field: str = "password") -> None:
        """The rule of the module docstring; ``InvalidInput`` naming ``field`` when broken."""
        if len(password) < self.min_length:
            raise InvalidInput.for_field(field, f"must be at least {self.min_length} characters")
        if len(password) > MAX_PASSWORD_LENGTH:
            raise InvalidInput.for_field(field, f"must be at most {MAX_PASSWORD_LENGTH} characters")
        if is_common(password):
            raise InvalidInput.for_field(
                field, "is one of the most common passwords: choose another"
            )
        local = email.partition("@")[0].lower()
        if len(local) >= 4 and local in password.lower():
            raise InvalidInput.for_field(field, "must not contain your email address")
