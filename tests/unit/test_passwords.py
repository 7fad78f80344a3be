from __future__ import annotations

import pytest

from app.service.users.passwords import PasswordHasher, check_strength
from common.errors import InvalidInput


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short1!", "at least 10"),
        ("a" * 129 + "B1", "at most 128"),
        ("abcdefghijkl", "too weak"),
        ("aaaaaaaaaa1A", "too weak"),
        ("Johnsmith-2024", "email"),
    ],
)
def test_weak_passwords_are_refused(password: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_strength(password, email="johnsmith@example.com")
    assert problem in caught.value.fields["password"]


def test_reasonable_passwords_pass() -> None:
    check_strength("correct horse 9 battery", email="johnsmith@example.com")
    check_strength("Tr0ub4dor&3xyz")


def test_hash_and_verify() -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1)
    digest = hasher.hash("correct horse 9 battery")
    assert digest.startswith("$argon2id$")
    assert "correct" not in digest
    assert hasher.verify(digest, "correct horse 9 battery")
    assert not hasher.verify(digest, "wrong horse 9 battery")
    assert not hasher.verify(None, "anything at all")
    assert not hasher.verify("not-a-hash", "anything at all")


def test_cost_changes_ask_for_a_rehash() -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1)
    dearer = PasswordHasher(time_cost=2, memory_cost_kib=16, parallelism=1)
    assert dearer.needs_rehash(cheap.hash("correct horse 9 battery"))
    assert not cheap.needs_rehash(cheap.hash("correct horse 9 battery"))
