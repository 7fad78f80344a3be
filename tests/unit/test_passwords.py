from __future__ import annotations

import pytest

from app.service.users.passwords import PasswordHasher, is_common
from common.errors import InvalidInput

RULES = PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Short1!xyz", "at least 12"),
        ("a" * 129, "at most 128"),
        ("password1234", "most common"),
        ("  QWERTY123456 ", "most common"),  # whatever the case and the spaces around it
        ("johnsmith and a long tail", "email"),
    ],
)
def test_passwords_that_break_the_rule_are_refused(password: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        RULES.check_strength(password, email="johnsmith@example.com")
    assert problem in caught.value.fields["password"]


def test_length_alone_makes_a_password_acceptable_no_character_classes_needed() -> None:
    RULES.check_strength("correct horse battery staple", email="johnsmith@example.com")
    RULES.check_strength("aaaaaaaaaaaaaaaaaaaa")  # long, not common: NIST asks for no more
    RULES.check_strength("x" * 128)


def test_the_minimum_length_is_a_setting() -> None:
    stricter = PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1, min_length=16)
    with pytest.raises(InvalidInput, match="at least 16"):
        stricter.check_strength("fifteen chars!!")


def test_the_bundled_list_is_loaded() -> None:
    assert is_common("password")
    assert is_common("123456")
    assert not is_common("correct horse battery staple")


def test_hash_and_verify() -> None:
    digest = RULES.hash("correct horse 9 battery")
    assert digest.startswith("$argon2id$")
    assert "correct" not in digest
    assert RULES.verify(digest, "correct horse 9 battery")
    assert not RULES.verify(digest, "wrong horse 9 battery")
    assert not RULES.verify(None, "anything at all")
    assert not RULES.verify("not-a-hash", "anything at all")


def test_cost_changes_ask_for_a_rehash() -> None:
    dearer = PasswordHasher(time_cost=2, memory_cost_kib=16, parallelism=1)
    assert dearer.needs_rehash(RULES.hash("correct horse 9 battery"))
    assert not RULES.needs_rehash(RULES.hash("correct horse 9 battery"))
