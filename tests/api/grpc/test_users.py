"""``backend.v1.UsersService`` through a real server: sign up, profile, password, deletion."""

from __future__ import annotations

import uuid

import grpc
import pytest

from app.api.grpc.generated.v1 import auth_pb2, users_pb2
from app.bootstrap import Services
from common.errors import NotFound
from tests.api.grpc.support import Stubs, bearer, failure, field_violations
from tests.factories import DEFAULT_PASSWORD, Factories

NEW_PASSWORD = "another Secret 42"


def test_sign_up_returns_the_stored_user(stubs: Stubs, services: Services) -> None:
    response = stubs.users.SignUp(
        users_pb2.SignUpRequest(
            email=" Ada@Example.COM ", password=DEFAULT_PASSWORD, display_name=" Ada "
        )
    )
    user = response.user
    assert (user.email, user.display_name) == ("ada@example.com", "Ada")
    stored = services.users.get(user.id)
    assert stored.email == "ada@example.com"
    assert user.created_at.ToDatetime(tzinfo=stored.created_at.tzinfo) == stored.created_at
    assert user.updated_at == user.created_at


@pytest.mark.parametrize("second", ["taken@example.com", "TAKEN@example.com", " Taken@Example.com"])
def test_sign_up_with_a_taken_email_in_any_case_already_exists(
    stubs: Stubs, factories: Factories, second: str
) -> None:
    factories.user(email="taken@example.com")
    call = failure(
        stubs.users.SignUp,
        users_pb2.SignUpRequest(email=second, password=DEFAULT_PASSWORD, display_name="Copy"),
    )
    assert call.code() is grpc.StatusCode.ALREADY_EXISTS
    assert call.details() == "a user with this email already exists"


def test_sign_up_names_every_invalid_field(stubs: Stubs) -> None:
    call = failure(
        stubs.users.SignUp,
        users_pb2.SignUpRequest(email="not-an-email", password="short", display_name="  "),
    )
    assert call.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(call) == {
        "email": "is not a valid email address",
        "password": "must be at least 12 characters",
        "display_name": "must not be empty",
    }


def test_an_empty_sign_up_is_invalid_not_internal(stubs: Stubs) -> None:
    call = failure(stubs.users.SignUp, users_pb2.SignUpRequest())
    assert call.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(call)) == {"email", "password", "display_name"}


def test_get_me(stubs: Stubs, factories: Factories) -> None:
    user = factories.user(display_name="Grace")
    response = stubs.users.GetMe(users_pb2.GetMeRequest(), metadata=bearer(factories.token(user)))
    assert (response.user.id, response.user.email) == (str(user.id), user.email)
    assert response.user.display_name == "Grace"


def test_update_me_changes_only_what_is_set(
    stubs: Stubs, factories: Factories, services: Services
) -> None:
    user = factories.user(display_name="Old")
    auth = bearer(factories.token(user))
    updated = stubs.users.UpdateMe(
        users_pb2.UpdateMeRequest(display_name=" New "), metadata=auth
    ).user
    assert updated.display_name == "New"
    assert updated.updated_at.ToDatetime() > updated.created_at.ToDatetime()
    assert services.users.get(user.id).display_name == "New"

    unchanged = stubs.users.UpdateMe(users_pb2.UpdateMeRequest(), metadata=auth).user
    assert unchanged == updated


def test_update_me_refuses_an_empty_display_name(stubs: Stubs, factories: Factories) -> None:
    user = factories.user()
    call = failure(
        stubs.users.UpdateMe,
        users_pb2.UpdateMeRequest(display_name=""),
        metadata=bearer(factories.token(user)),
    )
    assert call.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(call) == {"display_name": "must not be empty"}


def test_change_password_revokes_tokens_and_the_new_one_logs_in(
    stubs: Stubs, factories: Factories
) -> None:
    user = factories.user()
    token = factories.token(user)
    stubs.users.ChangePassword(
        users_pb2.ChangePasswordRequest(
            current_password=DEFAULT_PASSWORD, new_password=NEW_PASSWORD
        ),
        metadata=bearer(token),
    )
    call = failure(stubs.users.GetMe, users_pb2.GetMeRequest(), metadata=bearer(token))
    assert call.code() is grpc.StatusCode.UNAUTHENTICATED
    old = failure(
        stubs.auth.LogIn, auth_pb2.LogInRequest(email=user.email, password=DEFAULT_PASSWORD)
    )
    assert old.code() is grpc.StatusCode.UNAUTHENTICATED
    assert stubs.auth.LogIn(auth_pb2.LogInRequest(email=user.email, password=NEW_PASSWORD)).token


def test_change_password_needs_the_current_one_and_a_strong_new_one(
    stubs: Stubs, factories: Factories
) -> None:
    user = factories.user()
    auth = bearer(factories.token(user))
    wrong = failure(
        stubs.users.ChangePassword,
        users_pb2.ChangePasswordRequest(
            current_password="not it at all", new_password=NEW_PASSWORD
        ),
        metadata=auth,
    )
    assert wrong.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(wrong) == {"current_password": "is not the current password"}
    weak = failure(
        stubs.users.ChangePassword,
        users_pb2.ChangePasswordRequest(current_password=DEFAULT_PASSWORD, new_password="short"),
        metadata=auth,
    )
    assert field_violations(weak) == {"new_password": "must be at least 12 characters"}
    # Nothing changed: the token still works.
    assert stubs.users.GetMe(users_pb2.GetMeRequest(), metadata=auth).user.id == str(user.id)


def test_delete_me_removes_the_user_and_their_notes(
    stubs: Stubs, factories: Factories, services: Services
) -> None:
    user = factories.user()
    factories.note(user)
    token = factories.token(user)
    stubs.users.DeleteMe(users_pb2.DeleteMeRequest(), metadata=bearer(token))
    with pytest.raises(NotFound):
        services.users.get(user.id)
    assert services.notes.list(user.id).items == []
    call = failure(stubs.users.GetMe, users_pb2.GetMeRequest(), metadata=bearer(token))
    assert call.code() is grpc.StatusCode.UNAUTHENTICATED


def test_get_user_by_id_for_other_services(stubs: Stubs, factories: Factories) -> None:
    caller, other = factories.user(), factories.user(display_name="Other")
    auth = bearer(factories.token(caller))
    found = stubs.users.GetUser(users_pb2.GetUserRequest(user_id=str(other.id)), metadata=auth)
    assert (found.user.id, found.user.display_name) == (str(other.id), "Other")
    outcomes = set()
    for missing in (str(uuid.uuid4()), "not-a-uuid", ""):
        call = failure(
            stubs.users.GetUser, users_pb2.GetUserRequest(user_id=missing), metadata=auth
        )
        outcomes.add((call.code(), call.details()))
    assert outcomes == {(grpc.StatusCode.NOT_FOUND, "user not found")}
