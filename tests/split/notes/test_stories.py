"""The notes stories with notes on its own: the monolith's outcomes, users in another service.

Each story runs once through notes' REST API and once through its gRPC API (``client``), with
accounts and tokens from the users service; the expected outcomes are the monolith's (the
parity suite's, ``tests/api/parity``) word for word. The last stories are the split's own: a
deleted user's notes follow over the wire, and notes answers 503 / UNAVAILABLE while users is
down and recovers when it is back.
"""

from __future__ import annotations

import functools
import itertools
import time
import uuid
from collections.abc import Callable

import grpc
import pytest
from sqlalchemy import func, select

from app.api.grpc.generated.v1 import (
    user_events_pb2,
    user_events_pb2_grpc,
    users_pb2,
    users_pb2_grpc,
)
from app.bootstrap import Runtime
from app.db.notes.models import NoteRow
from tests.api.parity.clients import ApiError, Client, NotePage, Outcome, User
from tests.split.notes.harness import SplitClient, UsersSide
from tests.split.notes.switch import Switch

PASSWORD = "correct horse 9 battery"
MISSING_TOKEN: Outcome = ("unauthenticated", "a valid bearer token is required", {})
INVALID_TOKEN: Outcome = ("unauthenticated", "the token is invalid, expired or revoked", {})
NOTE_NOT_FOUND: Outcome = ("not-found", "note not found", {})
USERS_DOWN: Outcome = ("unavailable", "the users service is unavailable", {})

_numbers = itertools.count(1)


def new_user(client: Client) -> tuple[User, str]:
    """A user signed up with the users service, and a token from logging in as them."""
    email = f"split{uuid.uuid4().hex[:12]}{next(_numbers)}@example.com"
    user = client.sign_up(email=email, password=PASSWORD, display_name="Split User")
    return user, client.log_in(email=email, password=PASSWORD).token


def refusal(call: Callable[[], object]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def test_create_read_update_and_delete_a_note(client: SplitClient) -> None:
    _, token = new_user(client)
    note = client.create_note(token, title="  Groceries ", body="milk\n")
    assert (note.title, note.body) == ("Groceries", "milk")
    assert client.get_note(token, note.id) == note

    retitled = client.update_note(token, note.id, title="Shopping")
    assert (retitled.id, retitled.title, retitled.body) == (note.id, "Shopping", "milk")
    assert retitled.updated_at > note.updated_at

    client.delete_note(token, note.id)
    for call in (
        lambda: client.get_note(token, note.id),
        lambda: client.update_note(token, note.id, title="Back"),
        lambda: client.delete_note(token, note.id),
    ):
        assert refusal(call).outcome() == NOTE_NOT_FOUND
    assert client.list_notes(token) == NotePage((), None)


def test_notes_are_listed_newest_first_page_by_page_and_filtered(client: SplitClient) -> None:
    _, token = new_user(client)
    for number in range(3):
        client.create_note(token, title=f"Note {number}", body="eggs" if number else "")

    first = client.list_notes(token, limit=2)
    assert [note.title for note in first.items] == ["Note 2", "Note 1"]
    assert first.next_cursor is not None
    rest = client.list_notes(token, limit=2, cursor=first.next_cursor)
    assert ([note.title for note in rest.items], rest.next_cursor) == (["Note 0"], None)
    found = client.list_notes(token, query=" EGGS ")
    assert [note.title for note in found.items] == ["Note 2", "Note 1"]


def test_another_users_note_is_exactly_like_a_missing_one(client: SplitClient) -> None:
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


def test_missing_unknown_and_logged_out_tokens_are_refused(client: SplitClient) -> None:
    _, token = new_user(client)
    assert refusal(lambda: client.create_note(None, title="t")).outcome() == MISSING_TOKEN
    assert refusal(lambda: client.list_notes("not-a-token")).outcome() == INVALID_TOKEN
    client.log_out(token)
    assert refusal(lambda: client.list_notes(token)).outcome() == INVALID_TOKEN


def test_invalid_notes_and_list_parameters_name_their_fields(client: SplitClient) -> None:
    _, token = new_user(client)
    error = refusal(lambda: client.create_note(token, title="   ", body="x" * 20_001))
    assert error.outcome() == (
        "invalid-input",
        "the note is invalid",
        {"title": "must not be empty", "body": "must be at most 20000 characters"},
    )
    error = refusal(lambda: client.list_notes(token, query="x" * 201))
    assert (error.kind, error.fields) == (
        "invalid-input",
        {"query": "must be at most 200 characters"},
    )


def _notes_of(runtime: Runtime, owner_id: str) -> int:
    with runtime.database.engine.connect() as connection:
        count = connection.scalar(
            select(func.count()).select_from(NoteRow).where(NoteRow.owner_id == owner_id)
        )
    return int(count or 0)


def test_a_deleted_users_notes_are_deleted_when_users_says_so(
    client: SplitClient,
    users_channel: grpc.Channel,
    notes_channel: grpc.Channel,
    notes_runtime: Runtime,
    users_side: UsersSide,
) -> None:
    leaving, token = new_user(client)
    staying, kept_token = new_user(client)
    client.create_note(token, title="Goes")
    kept = client.create_note(kept_token, title="Stays")
    events = user_events_pb2_grpc.UserEventsServiceStub(notes_channel)

    # Nobody can have a user's notes deleted while users still knows the user.
    with pytest.raises(grpc.RpcError) as caught:
        events.UserDeleted(user_events_pb2.UserDeletedRequest(user_id=leaving.id), timeout=10)
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert _notes_of(notes_runtime, leaving.id) == 1

    users = users_pb2_grpc.UsersServiceStub(users_channel)
    users.DeleteMe(
        users_pb2.DeleteMeRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=10
    )
    users_side.deliver_user_deleted(leaving.id)
    assert _notes_of(notes_runtime, leaving.id) == 0
    # Told twice (the queue delivers at least once), notes finds nothing left to delete.
    events.UserDeleted(user_events_pb2.UserDeletedRequest(user_id=leaving.id), timeout=10)
    assert client.list_notes(kept_token) == NotePage((kept,), None)
    assert client.me(kept_token) == staying


def test_notes_answers_unavailable_while_users_is_down_and_recovers(
    client: SplitClient, users_switch: Switch
) -> None:
    _, token = new_user(client)
    note = client.create_note(token, title="Before the outage")
    users_switch.cut()
    try:
        assert refusal(lambda: client.get_note(token, note.id)).outcome() == USERS_DOWN
        # A request with no token needs no answer from users: it is refused as before.
        assert refusal(lambda: client.get_note(None, note.id)).outcome() == MISSING_TOKEN
    finally:
        users_switch.restore()
    deadline = time.monotonic() + 10
    while True:  # the channel reconnects within its backoff (at most two seconds)
        try:
            assert client.list_notes(token) == NotePage((note,), None)
            break
        except ApiError as error:
            if error.outcome() != USERS_DOWN or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
