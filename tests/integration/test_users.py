"""Users through the service layer on a real database."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.bootstrap import Services
from app.db.models import NoteRow, TokenRow, UserRow
from common.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from tests.factories import DEFAULT_PASSWORD, Factories


def test_register_normalises_the_email_and_hashes_the_password(
    services: Services, session: Session
) -> None:
    user = services.users.register(
        email="  Ada@Example.COM ", display_name=" Ada ", password=DEFAULT_PASSWORD
    )
    assert (user.email, user.display_name) == ("ada@example.com", "Ada")
    assert user.created_at.tzinfo is not None
    stored = session.scalars(select(UserRow.password_hash).where(UserRow.id == user.id)).one()
    assert stored.startswith("$argon2id$")
    assert DEFAULT_PASSWORD not in stored


def test_email_is_unique_whatever_its_case(services: Services, factories: Factories) -> None:
    factories.user(email="ada@example.com")
    with pytest.raises(Conflict):
        factories.user(email="ADA@example.com")
    # the failed insert left the transaction usable
    other = factories.user()
    assert services.users.get(other.id).email == other.email


def test_register_reports_every_bad_field_at_once(services: Services, session: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        services.users.register(email="nope", display_name="  ", password="short")
    assert set(caught.value.fields) == {"email", "display_name", "password"}
    assert session.scalar(select(func.count()).select_from(UserRow)) == 0


def test_get_unknown_or_malformed_ids(services: Services) -> None:
    with pytest.raises(NotFound):
        services.users.get(uuid.uuid4())
    with pytest.raises(NotFound):
        services.users.get("not-a-uuid")


def test_list_walks_every_user_once_in_a_stable_order(
    services: Services, factories: Factories
) -> None:
    created = [factories.user().id for _ in range(5)]
    seen: list[uuid.UUID] = []
    cursor = None
    while True:
        page = services.users.list(cursor=cursor, limit=2)
        seen += [user.id for user in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == created
    with pytest.raises(InvalidInput):
        services.users.list(limit=0)


def test_update_profile(services: Services, factories: Factories) -> None:
    user = factories.user()
    updated = services.users.update_profile(user.id, display_name="  New Name ")
    assert updated.display_name == "New Name"
    assert updated.updated_at > user.updated_at
    with pytest.raises(InvalidInput):
        services.users.update_profile(user.id, display_name="")


def test_change_password_checks_the_current_one_and_revokes_tokens(
    services: Services, factories: Factories
) -> None:
    user = factories.user()
    token = factories.token(user)
    with pytest.raises(InvalidInput) as wrong:
        services.users.change_password(
            user.id, current_password="wrong password 1", new_password="another fine 1"
        )
    assert "current_password" in wrong.value.fields
    with pytest.raises(InvalidInput) as weak:
        services.users.change_password(
            user.id, current_password=DEFAULT_PASSWORD, new_password="weak"
        )
    assert "new_password" in weak.value.fields
    assert services.auth.resolve(token).id == user.id  # failed attempts changed nothing

    services.users.change_password(
        user.id, current_password=DEFAULT_PASSWORD, new_password="another fine 1"
    )
    with pytest.raises(Unauthenticated):
        services.auth.resolve(token)
    with pytest.raises(Unauthenticated):
        services.auth.login(email=user.email, password=DEFAULT_PASSWORD)
    assert services.auth.login(email=user.email, password="another fine 1").user.id == user.id


def test_delete_removes_the_users_notes_and_tokens_but_no_one_elses(
    services: Services, factories: Factories, session: Session
) -> None:
    user, other = factories.user(), factories.user()
    factories.token(user)
    for owner in (user, user, other):
        factories.note(owner)
    services.users.delete(user.id)
    with pytest.raises(NotFound):
        services.users.get(user.id)
    owners = session.scalars(select(NoteRow.owner_id)).all()
    assert owners == [other.id]
    assert session.scalar(select(func.count()).select_from(TokenRow)) == 0
    with pytest.raises(NotFound):
        services.users.delete(user.id)


def test_delete_is_one_transaction(
    services: Services, factories: Factories, session: Session
) -> None:
    """A failure after the notes were deleted leaves both the user and the notes."""
    user = factories.user()
    factories.note(user)

    def fail(_: uuid.UUID) -> None:
        raise RuntimeError("listener failed")

    services.users._events.deleted.append(fail)
    with pytest.raises(RuntimeError):
        services.users.delete(user.id)
    assert services.users.get(user.id).id == user.id
    assert session.scalar(select(func.count()).select_from(NoteRow)) == 1


def test_authenticate_gives_one_answer_for_unknown_email_and_wrong_password(
    services: Services, factories: Factories
) -> None:
    user = factories.user()
    errors = []
    for email, password in (
        (user.email, "wrong password 1"),
        ("nobody@example.com", DEFAULT_PASSWORD),
        ("not an email", DEFAULT_PASSWORD),
    ):
        with pytest.raises(Unauthenticated) as caught:
            services.users.authenticate(email=email, password=password)
        errors.append(caught.value.message)
    assert len(set(errors)) == 1
    assert (
        services.users.authenticate(email=user.email.upper(), password=DEFAULT_PASSWORD).id
        == user.id
    )
