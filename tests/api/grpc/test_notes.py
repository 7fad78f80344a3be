"""``backend.v1.NotesService`` through a real server: owner-scoped CRUD, pages and the filter."""

from __future__ import annotations

import uuid

import grpc
import pytest

from app.api.grpc.generated.v1 import notes_pb2
from app.bootstrap import Services
from app.service.users.service import User
from common.errors import NotFound
from tests.api.grpc.support import Metadata, Stubs, bearer, failure, field_violations
from tests.factories import Factories


@pytest.fixture
def owner(factories: Factories) -> User:
    return factories.user()


@pytest.fixture
def auth(factories: Factories, owner: User) -> Metadata:
    return bearer(factories.token(owner))


def test_create_get_update_delete(
    stubs: Stubs, auth: Metadata, owner: User, services: Services
) -> None:
    created = stubs.notes.CreateNote(
        notes_pb2.CreateNoteRequest(title="  Groceries ", body="milk"), metadata=auth
    ).note
    assert (created.title, created.body) == ("Groceries", "milk")
    assert services.notes.get(owner.id, created.id).title == "Groceries"

    read = stubs.notes.GetNote(notes_pb2.GetNoteRequest(note_id=created.id), metadata=auth).note
    assert read == created

    renamed = stubs.notes.UpdateNote(
        notes_pb2.UpdateNoteRequest(note_id=created.id, title="Shopping"), metadata=auth
    ).note
    assert (renamed.title, renamed.body) == ("Shopping", "milk")
    assert renamed.updated_at.ToDatetime() > created.updated_at.ToDatetime()
    emptied = stubs.notes.UpdateNote(
        notes_pb2.UpdateNoteRequest(note_id=created.id, body=""), metadata=auth
    ).note
    assert (emptied.title, emptied.body) == ("Shopping", "")

    stubs.notes.DeleteNote(notes_pb2.DeleteNoteRequest(note_id=created.id), metadata=auth)
    with pytest.raises(NotFound):
        services.notes.get(owner.id, created.id)
    gone = failure(stubs.notes.GetNote, notes_pb2.GetNoteRequest(note_id=created.id), metadata=auth)
    assert gone.code() is grpc.StatusCode.NOT_FOUND


def test_a_note_without_body_is_empty(stubs: Stubs, auth: Metadata) -> None:
    note = stubs.notes.CreateNote(notes_pb2.CreateNoteRequest(title="t"), metadata=auth).note
    assert note.body == ""


def test_another_users_note_is_exactly_like_a_missing_one(
    stubs: Stubs, factories: Factories, owner: User, services: Services
) -> None:
    note = factories.note(owner, title="Mine")
    stranger = bearer(factories.token(factories.user()))
    outcomes = set()
    for target in (str(note.id), str(uuid.uuid4()), "not-a-uuid", ""):
        for method, request in (
            (stubs.notes.GetNote, notes_pb2.GetNoteRequest(note_id=target)),
            (stubs.notes.UpdateNote, notes_pb2.UpdateNoteRequest(note_id=target, title="Ours")),
            (stubs.notes.DeleteNote, notes_pb2.DeleteNoteRequest(note_id=target)),
        ):
            call = failure(method, request, metadata=stranger)
            outcomes.add((call.code(), call.details()))
    assert outcomes == {(grpc.StatusCode.NOT_FOUND, "note not found")}
    assert services.notes.get(owner.id, note.id).title == "Mine"


def test_invalid_notes_name_their_fields(
    stubs: Stubs, auth: Metadata, factories: Factories, owner: User
) -> None:
    call = failure(
        stubs.notes.CreateNote,
        notes_pb2.CreateNoteRequest(title=" ", body="x" * 20_001),
        metadata=auth,
    )
    assert call.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert call.details() == "the note is invalid"
    assert field_violations(call) == {
        "title": "must not be empty",
        "body": "must be at most 20000 characters",
    }
    note = factories.note(owner)
    update = failure(
        stubs.notes.UpdateNote,
        notes_pb2.UpdateNoteRequest(note_id=str(note.id), title="", body="x\x00y"),
        metadata=auth,
    )
    assert update.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(update) == {
        "title": "must not be empty",
        "body": "must not contain NUL characters",
    }


def test_list_pages_newest_first_with_a_cursor(
    stubs: Stubs, auth: Metadata, factories: Factories, owner: User
) -> None:
    made = [factories.note(owner, title=f"Note {n}") for n in range(5)]
    factories.note(factories.user(), title="Someone else's")
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        page = stubs.notes.ListNotes(
            notes_pb2.ListNotesRequest(cursor=cursor, limit=2), metadata=auth
        )
        pages += 1
        assert len(page.notes) <= 2
        seen += [note.id for note in page.notes]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert seen == [str(note.id) for note in reversed(made)]


def test_list_defaults_to_twenty_per_page(
    stubs: Stubs, auth: Metadata, factories: Factories, owner: User
) -> None:
    for _ in range(21):
        factories.note(owner)
    page = stubs.notes.ListNotes(notes_pb2.ListNotesRequest(), metadata=auth)
    assert len(page.notes) == 20
    assert page.next_cursor


def test_list_filters_by_text_in_title_or_body(
    stubs: Stubs, auth: Metadata, factories: Factories, owner: User
) -> None:
    by_title = factories.note(owner, title="Buy MILK", body="")
    by_body = factories.note(owner, title="Errands", body="oat milk, eggs")
    factories.note(owner, title="Other", body="bread")
    factories.note(owner, title="100% sure", body="")
    page = stubs.notes.ListNotes(notes_pb2.ListNotesRequest(query=" milk "), metadata=auth)
    assert [note.id for note in page.notes] == [str(by_body.id), str(by_title.id)]
    assert page.next_cursor == ""
    literal = stubs.notes.ListNotes(notes_pb2.ListNotesRequest(query="%"), metadata=auth)
    assert [note.title for note in literal.notes] == ["100% sure"]


@pytest.mark.parametrize(
    ("list_request", "violations"),
    [
        (notes_pb2.ListNotesRequest(limit=0), {"limit": "must be between 1 and 100"}),
        (notes_pb2.ListNotesRequest(limit=-1), {"limit": "must be between 1 and 100"}),
        (notes_pb2.ListNotesRequest(limit=101), {"limit": "must be between 1 and 100"}),
        (
            notes_pb2.ListNotesRequest(cursor="garbage"),
            {"cursor": "is not a cursor this service issued"},
        ),
        (
            notes_pb2.ListNotesRequest(query="x" * 201),
            {"query": "must be at most 200 characters"},
        ),
    ],
    ids=["zero", "negative", "over-max", "cursor", "query"],
)
def test_list_refuses_bad_paging_and_filters(
    stubs: Stubs,
    auth: Metadata,
    list_request: notes_pb2.ListNotesRequest,
    violations: dict[str, str],
) -> None:
    call = failure(stubs.notes.ListNotes, list_request, metadata=auth)
    assert call.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(call) == violations
    [(field, problem)] = violations.items()
    assert call.details() == f"{field}: {problem}"
