"""Notes through the service layer: owner-scoped, newest first, filtered, paginated."""

from __future__ import annotations

import uuid

import pytest

from app.bootstrap import Services
from common.errors import InvalidInput, NotFound
from tests.factories import Factories


def test_create_get_update_delete(services: Services, factories: Factories) -> None:
    owner = factories.user()
    note = services.notes.create(owner.id, title="  Groceries ", body="milk")
    assert (note.title, note.body, note.owner_id) == ("Groceries", "milk", owner.id)
    assert services.notes.get(owner.id, note.id) == note
    assert services.notes.get(owner.id, str(note.id)) == note

    renamed = services.notes.update(owner.id, note.id, title="Shopping")
    assert (renamed.title, renamed.body) == ("Shopping", "milk")
    rewritten = services.notes.update(owner.id, note.id, body="")
    assert (rewritten.title, rewritten.body) == ("Shopping", "")
    assert rewritten.updated_at > note.updated_at

    services.notes.delete(owner.id, note.id)
    with pytest.raises(NotFound):
        services.notes.get(owner.id, note.id)
    with pytest.raises(NotFound):
        services.notes.delete(owner.id, note.id)


def test_another_users_note_looks_exactly_like_a_missing_one(
    services: Services, factories: Factories
) -> None:
    owner, stranger = factories.user(), factories.user()
    note = factories.note(owner)
    outcomes = []
    for target in (note.id, uuid.uuid4(), "garbage"):
        for call in (
            lambda t=target: services.notes.get(stranger.id, t),
            lambda t=target: services.notes.update(stranger.id, t, title="mine now"),
            lambda t=target: services.notes.delete(stranger.id, t),
        ):
            with pytest.raises(NotFound) as caught:
                call()
            outcomes.append((type(caught.value), caught.value.message))
    assert len(set(outcomes)) == 1
    assert services.notes.get(owner.id, note.id).title == note.title


def test_invalid_notes_name_their_fields(services: Services, factories: Factories) -> None:
    owner = factories.user()
    with pytest.raises(InvalidInput) as caught:
        services.notes.create(owner.id, title="", body="x" * 20_001)
    assert set(caught.value.fields) == {"title", "body"}
    note = factories.note(owner)
    with pytest.raises(InvalidInput) as caught:
        services.notes.update(owner.id, note.id, title=" ")
    assert set(caught.value.fields) == {"title"}


def test_list_is_newest_first_and_pages_without_gaps(
    services: Services, factories: Factories
) -> None:
    owner = factories.user()
    factories.note(factories.user())  # someone else's
    created = [factories.note(owner).id for _ in range(5)]
    first = services.notes.list(owner.id, limit=2)
    second = services.notes.list(owner.id, limit=2, cursor=first.next_cursor)
    third = services.notes.list(owner.id, limit=2, cursor=second.next_cursor)
    ids = [note.id for page in (first, second, third) for note in page.items]
    assert ids == created[::-1]
    assert third.next_cursor is None
    assert services.notes.list(owner.id).next_cursor is None


def test_text_filter_matches_title_or_body_literally(
    services: Services, factories: Factories
) -> None:
    owner = factories.user()
    wanted = [
        factories.note(owner, title="Buy MILK", body="").id,
        factories.note(owner, title="chores", body="the milkman comes").id,
    ]
    factories.note(owner, title="other", body="nothing here")
    percent = factories.note(owner, title="100% done", body="").id
    page = services.notes.list(owner.id, query="milk")
    assert {note.id for note in page.items} == set(wanted)
    assert [note.id for note in services.notes.list(owner.id, query="0%").items] == [percent]
    assert services.notes.list(owner.id, query="_").items == []
    with pytest.raises(InvalidInput):
        services.notes.list(owner.id, query="x" * 201)
    with pytest.raises(InvalidInput):
        services.notes.list(owner.id, cursor="bogus")
