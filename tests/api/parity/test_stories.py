"""The same user stories through REST and through gRPC, expecting the same outcomes from both.

Each test runs once per API (``client`` is parametrised); the assertions do not know which
API they talk to, so a story that passes twice behaves alike on both.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import uuid
from collections.abc import Callable

import pytest

from app.bootstrap import Runtime
from tests.api.parity.clients import ApiError, Client, NotePage, Outcome, User
from tests.conftest import TickingClock
from tests.factories import DEFAULT_PASSWORD

_numbers = itertools.count(1)

INVALID_TOKEN: Outcome = ("unauthenticated", "the token is invalid, expired or revoked", {})
NOTE_NOT_FOUND: Outcome = ("not-found", "note not found", {})


def new_user(client: Client, *, password: str = DEFAULT_PASSWORD) -> tuple[User, str]:
    """A user signed up through ``client``, and a token from logging in as them."""
    email = f"parity{next(_numbers)}@example.com"
    user = client.sign_up(email=email, password=password, display_name="Parity User")
    return user, client.log_in(email=email, password=password).token


def refusal(call: Callable[[], object]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def test_sign_up_then_log_in_and_see_yourself(
    client: Client, runtime: Runtime, clock: TickingClock
) -> None:
    user = client.sign_up(
        email=" Ada@Example.COM ", password=DEFAULT_PASSWORD, display_name=" Ada "
    )
    assert (user.email, user.display_name) == ("ada@example.com", "Ada")
    assert str(uuid.UUID(user.id)) == user.id
    assert user.created_at == user.updated_at

    issued_at = clock.now
    token = client.log_in(email="ADA@example.com", password=DEFAULT_PASSWORD)
    ttl = dt.timedelta(seconds=runtime.settings.token_ttl_seconds)
    assert issued_at + ttl < token.expires_at < issued_at + ttl + dt.timedelta(seconds=1)
    assert client.me(token.token) == user


def test_a_taken_email_in_any_case_is_a_conflict(client: Client) -> None:
    client.sign_up(email="taken@example.com", password=DEFAULT_PASSWORD, display_name="First")
    error = refusal(
        lambda: client.sign_up(
            email="TAKEN@example.com", password=DEFAULT_PASSWORD, display_name="Second"
        )
    )
    assert error.outcome() == ("conflict", "a user with this email already exists", {})


def test_a_wrong_password_and_an_unknown_email_are_refused_alike(client: Client) -> None:
    user, _ = new_user(client)
    outcomes = [
        refusal(lambda: client.log_in(email=user.email, password="wrong password 1")).outcome(),
        refusal(
            lambda: client.log_in(email="nobody@example.com", password=DEFAULT_PASSWORD)
        ).outcome(),
        refusal(lambda: client.log_in(email="", password="")).outcome(),
    ]
    assert outcomes == [("unauthenticated", "wrong email or password", {})] * 3


def test_sign_up_names_every_invalid_field(client: Client) -> None:
    error = refusal(
        lambda: client.sign_up(email="not an email", password="short", display_name=" ")
    )
    assert (error.kind, error.message) == ("invalid-input", "the sign-up data is invalid")
    assert error.fields.keys() == {"email", "password", "display_name"}
    assert error.fields["email"] == "is not a valid email address"
    assert error.fields["display_name"] == "must not be empty"


def test_create_read_update_and_delete_a_note(client: Client) -> None:
    _, token = new_user(client)
    note = client.create_note(token, title="  Groceries ", body="milk\n")
    assert (note.title, note.body) == ("Groceries", "milk")
    assert client.get_note(token, note.id) == note
    assert client.create_note(token, title="No body").body == ""

    retitled = client.update_note(token, note.id, title="Shopping")
    assert (retitled.id, retitled.title, retitled.body) == (note.id, "Shopping", "milk")
    assert retitled.created_at == note.created_at
    assert retitled.updated_at > note.updated_at
    emptied = client.update_note(token, note.id, body="")
    assert (emptied.title, emptied.body) == ("Shopping", "")
    assert client.get_note(token, note.id) == emptied

    client.delete_note(token, note.id)
    for call in (
        lambda: client.get_note(token, note.id),
        lambda: client.update_note(token, note.id, title="Back"),
        lambda: client.delete_note(token, note.id),
    ):
        assert refusal(call).outcome() == NOTE_NOT_FOUND
    assert [n.title for n in client.list_notes(token).items] == ["No body"]


def test_notes_are_listed_newest_first_page_by_page(client: Client, clock: TickingClock) -> None:
    _, token = new_user(client)
    _, other = new_user(client)
    client.create_note(other, title="Not mine")
    for number in range(5):
        client.create_note(token, title=f"Note {number}")

    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = client.list_notes(token, limit=2, cursor=cursor)
        pages.append([note.title for note in page.items])
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == [["Note 4", "Note 3"], ["Note 2", "Note 1"], ["Note 0"]]

    everything = client.list_notes(token)
    assert [note.title for note in everything.items] == [f"Note {n}" for n in (4, 3, 2, 1, 0)]
    assert everything.next_cursor is None
    assert client.list_notes(token, limit=5).next_cursor is None


def test_the_text_filter_matches_title_or_body_ignoring_case(
    client: Client, clock: TickingClock
) -> None:
    _, token = new_user(client)
    client.create_note(token, title="Shopping", body="milk and EGGS")
    client.create_note(token, title="Unrelated", body="nothing here")
    client.create_note(token, title="Eggs benedict")

    found = client.list_notes(token, query="eggs")
    assert [note.title for note in found.items] == ["Eggs benedict", "Shopping"]
    first = client.list_notes(token, query=" EGGS ", limit=1)
    assert [note.title for note in first.items] == ["Eggs benedict"]
    assert first.next_cursor is not None
    second = client.list_notes(token, query="eggs", limit=1, cursor=first.next_cursor)
    assert [note.title for note in second.items] == ["Shopping"]
    assert client.list_notes(token, query="absent") == NotePage((), None)


def test_another_users_note_is_exactly_like_a_missing_one(client: Client) -> None:
    _, owner = new_user(client)
    _, intruder = new_user(client)
    note = client.create_note(owner, title="Private", body="secret")

    for note_id in (note.id, str(uuid.uuid4()), "not-a-note-id"):
        for call in (
            functools.partial(client.get_note, intruder, note_id),
            functools.partial(client.update_note, intruder, note_id, title="Mine now"),
            functools.partial(client.delete_note, intruder, note_id),
        ):
            assert refusal(call).outcome() == NOTE_NOT_FOUND, note_id
    assert client.list_notes(intruder).items == ()
    assert client.get_note(owner, note.id) == note


def test_an_expired_token_is_refused(client: Client, runtime: Runtime, clock: TickingClock) -> None:
    user, token = new_user(client)
    clock.advance(seconds=runtime.settings.token_ttl_seconds - 1)
    assert client.me(token) == user
    clock.advance(seconds=2)
    assert refusal(lambda: client.me(token)).outcome() == INVALID_TOKEN
    assert refusal(lambda: client.list_notes(token)).outcome() == INVALID_TOKEN


def test_a_logged_out_token_is_refused_and_the_others_still_work(client: Client) -> None:
    user, token = new_user(client)
    kept = client.log_in(email=user.email, password=DEFAULT_PASSWORD).token
    client.log_out(token)
    assert refusal(lambda: client.me(token)).outcome() == INVALID_TOKEN
    assert refusal(lambda: client.log_out(token)).outcome() == INVALID_TOKEN
    assert client.me(kept) == user


def test_a_missing_or_unknown_token_is_refused(client: Client) -> None:
    missing: Outcome = ("unauthenticated", "a valid bearer token is required", {})
    assert refusal(lambda: client.me(None)).outcome() == missing
    assert refusal(lambda: client.create_note(None, title="t")).outcome() == missing
    assert refusal(lambda: client.me("not-a-token")).outcome() == INVALID_TOKEN


def test_invalid_notes_and_list_parameters_name_their_fields(client: Client) -> None:
    _, token = new_user(client)
    note = client.create_note(token, title="Kept")

    error = refusal(lambda: client.create_note(token, title="   ", body="x" * 20_001))
    assert (error.kind, error.message) == ("invalid-input", "the note is invalid")
    assert error.fields == {
        "title": "must not be empty",
        "body": "must be at most 20000 characters",
    }
    error = refusal(lambda: client.update_note(token, note.id, title=""))
    assert error.outcome() == (
        "invalid-input",
        "the note is invalid",
        {"title": "must not be empty"},
    )
    assert client.get_note(token, note.id) == note

    # REST checks the page size's range before the service does, in its own words.
    for limit in (0, 101):
        error = refusal(functools.partial(client.list_notes, token, limit=limit))
        assert (error.kind, set(error.fields)) == ("invalid-input", {"limit"})
    error = refusal(lambda: client.list_notes(token, query="x" * 201))
    assert (error.kind, error.fields) == (
        "invalid-input",
        {"query": "must be at most 200 characters"},
    )
    error = refusal(lambda: client.list_notes(token, cursor="not a cursor"))
    assert (error.kind, error.fields) == (
        "invalid-input",
        {"cursor": "is not a cursor this service issued"},
    )


def test_change_your_profile_and_password(client: Client) -> None:
    user, token = new_user(client)
    renamed = client.update_me(token, display_name="  Grace ")
    assert (renamed.id, renamed.email, renamed.display_name) == (user.id, user.email, "Grace")
    assert renamed.updated_at > user.updated_at
    assert client.update_me(token) == renamed
    error = refusal(lambda: client.update_me(token, display_name=""))
    assert (error.kind, error.fields) == ("invalid-input", {"display_name": "must not be empty"})

    wrong = refusal(
        lambda: client.change_password(
            token, current_password="not it at all 1", new_password="another horse 7 staple"
        )
    )
    assert wrong.outcome() == (
        "invalid-input",
        "current_password: is not the current password",
        {"current_password": "is not the current password"},
    )
    weak = refusal(
        lambda: client.change_password(token, current_password=DEFAULT_PASSWORD, new_password="x")
    )
    assert (weak.kind, set(weak.fields)) == ("invalid-input", {"new_password"})

    client.change_password(
        token, current_password=DEFAULT_PASSWORD, new_password="another horse 7 staple"
    )
    assert refusal(lambda: client.me(token)).outcome() == INVALID_TOKEN
    old = refusal(lambda: client.log_in(email=user.email, password=DEFAULT_PASSWORD))
    assert old.kind == "unauthenticated"
    fresh = client.log_in(email=user.email, password="another horse 7 staple").token
    me = client.me(fresh)
    assert (me.id, me.display_name) == (renamed.id, "Grace")
    assert me.updated_at > renamed.updated_at


@pytest.mark.parametrize("writer", ["rest", "grpc"])
def test_what_one_api_writes_the_other_reads(both: dict[str, Client], writer: str) -> None:
    """Both APIs are views of one service: same users, tokens, notes and values."""
    write, read = both[writer], both["grpc" if writer == "rest" else "rest"]
    user, token = new_user(write)
    note = write.create_note(token, title="Shared", body="across APIs")
    assert read.me(token) == user
    assert read.get_note(token, note.id) == note
    assert read.list_notes(token) == NotePage((note,), None)
    read.delete_note(token, note.id)
    assert refusal(lambda: write.get_note(token, note.id)).outcome() == NOTE_NOT_FOUND
