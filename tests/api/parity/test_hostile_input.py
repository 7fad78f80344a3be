"""What a hostile client sends, through REST and gRPC alike: refused with a 4xx naming the field.

Text PostgreSQL cannot store (NUL characters) is refused at the boundary for every text field
a request carries, whether the text would be stored or only searched for; a cursor this
service did not issue is refused whatever it decodes to; and log-ins are throttled per account
and per client address.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from tests.api.parity.clients import Client
from tests.api.parity.test_stories import new_user, refusal
from tests.conftest import TickingClock
from tests.factories import DEFAULT_PASSWORD

NUL = "a\x00b"
NUL_REFUSED = "must not contain NUL characters"


def _sign_up(client: Client, **changes: str) -> Callable[[], object]:
    values = {"email": "nul@example.com", "password": DEFAULT_PASSWORD, "display_name": "N"}
    values.update(changes)
    return lambda: client.sign_up(**values)


@pytest.mark.parametrize("field", ["email", "password", "display_name"])
def test_sign_up_refuses_unstorable_text_naming_the_field(client: Client, field: str) -> None:
    error = refusal(_sign_up(client, **{field: NUL if field != "email" else "a\x00@x.io"}))
    assert error.kind == "invalid-input"
    assert error.fields == {field: NUL_REFUSED}


@pytest.mark.parametrize("field", ["email", "password"])
def test_log_in_refuses_unstorable_text_naming_the_field(client: Client, field: str) -> None:
    values = {"email": "nul@example.com", "password": DEFAULT_PASSWORD, field: NUL}
    error = refusal(lambda: client.log_in(**values))
    assert (error.kind, error.fields) == ("invalid-input", {field: NUL_REFUSED})


def test_notes_refuse_unstorable_text_in_every_field(client: Client) -> None:
    _, token = new_user(client)
    note = client.create_note(token, title="Fine")
    calls: dict[str, Callable[[], object]] = {
        "query": lambda: client.list_notes(token, query=NUL),
        "title": lambda: client.create_note(token, title=NUL),
        "body": lambda: client.update_note(token, note.id, body=NUL),
    }
    for field, call in calls.items():
        error = refusal(call)
        assert (error.kind, error.fields) == ("invalid-input", {field: NUL_REFUSED}), field


def test_changing_the_password_refuses_unstorable_text(client: Client) -> None:
    _, token = new_user(client)
    error = refusal(
        lambda: client.change_password(token, current_password=NUL, new_password=NUL + "x" * 20)
    )
    assert error.fields == {"current_password": NUL_REFUSED}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _tampered(payload: str) -> str:
    return f"{_b64(payload.encode())}.{_b64(b'x' * 16)}"


@pytest.mark.parametrize(
    "cursor",
    [
        _tampered('["2030-01-01T00:00:00+00:00", 42]'),
        _tampered('["2030-01-01T00:00:00+00:00", [1, 2]]'),
        _tampered("[" * 1500 + "]" * 1500),
        "x" * 100_000,
        _b64(json.dumps(["2030-01-01T00:00:00+00:00", "0" * 32]).encode()),  # unsigned, old style
    ],
    ids=["number-id", "list-id", "deep", "huge", "unsigned"],
)
def test_a_cursor_this_service_did_not_issue_is_invalid_input(client: Client, cursor: str) -> None:
    _, token = new_user(client)
    error = refusal(lambda: client.list_notes(token, cursor=cursor))
    assert (error.kind, error.fields) == (
        "invalid-input",
        {"cursor": "is not a cursor this service issued"},
    )


def test_a_cursor_the_service_issued_still_pages(client: Client) -> None:
    _, token = new_user(client)
    for number in range(3):
        client.create_note(token, title=f"Note {number}")
    first = client.list_notes(token, limit=2)
    assert first.next_cursor is not None
    second = client.list_notes(token, limit=2, cursor=first.next_cursor)
    assert [note.title for note in second.items] == ["Note 0"]
    changed = first.next_cursor[:-2] + ("AA" if not first.next_cursor.endswith("AA") else "BB")
    assert refusal(lambda: client.list_notes(token, cursor=changed)).kind == "invalid-input"


def test_log_in_is_throttled_per_account(
    client: Client, clock: TickingClock, override_settings: Callable[..., object]
) -> None:
    override_settings(login_max_failures_per_account=5, login_throttle_window_seconds=600)
    user, _ = new_user(client)
    for _attempt in range(5):
        assert refusal(
            lambda: client.log_in(email=user.email, password="wrong password!")
        ).kind == ("unauthenticated")
    throttled = refusal(lambda: client.log_in(email=user.email, password="wrong password!"))
    assert throttled.kind == "rate-limited"
    # The right password is refused too while the window lasts, and in any case of the email.
    right = refusal(lambda: client.log_in(email=user.email.upper(), password=DEFAULT_PASSWORD))
    assert right.outcome() == throttled.outcome()

    clock.advance(seconds=601)
    assert client.log_in(email=user.email, password=DEFAULT_PASSWORD).token


def test_log_in_is_throttled_per_client_address(
    client: Client, override_settings: Callable[..., object]
) -> None:
    override_settings(login_max_failures_per_account=100, login_max_failures_per_address=4)
    user, _ = new_user(client)
    for number in range(4):  # four accounts, one address
        refusal(lambda: client.log_in(email=f"guess{number}@example.com", password="nope nope"))  # noqa: B023 - called at once
    error = refusal(lambda: client.log_in(email=user.email, password=DEFAULT_PASSWORD))
    assert error.kind == "rate-limited"


def test_a_successful_log_in_forgets_the_account_s_failures(
    client: Client, override_settings: Callable[..., object]
) -> None:
    override_settings(login_max_failures_per_account=3)
    user, _ = new_user(client)
    for _round in range(3):
        for _attempt in range(2):
            refusal(lambda: client.log_in(email=user.email, password="wrong password!"))
        assert client.log_in(email=user.email, password=DEFAULT_PASSWORD).token


def test_the_throttle_window_is_counted_from_the_first_failure(
    client: Client, clock: TickingClock, override_settings: Callable[..., object]
) -> None:
    override_settings(login_max_failures_per_account=2, login_throttle_window_seconds=60)
    user, _ = new_user(client)
    refusal(lambda: client.log_in(email=user.email, password="wrong password!"))
    clock.advance(seconds=61)  # that failure's window ended
    refusal(lambda: client.log_in(email=user.email, password="wrong password!"))
    assert client.log_in(email=user.email, password=DEFAULT_PASSWORD).token
