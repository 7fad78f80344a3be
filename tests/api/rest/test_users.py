"""``/v1/users``: sign up, profile, password change and account deletion over HTTP."""

from __future__ import annotations

import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.notes.models import NoteRow
from tests.api.rest.conftest import Api, bearer
from tests.factories import DEFAULT_PASSWORD


def test_sign_up_returns_the_user_and_where_to_find_it(client: FlaskClient) -> None:
    response = client.post(
        "/v1/users",
        json={"email": " Ada@Example.COM ", "password": DEFAULT_PASSWORD, "display_name": "Ada"},
    )
    assert response.status_code == 201
    assert response.headers["Location"] == "/v1/users/me"
    user = response.json
    assert user is not None
    assert set(user) == {"id", "email", "display_name", "created_at", "updated_at"}
    assert (user["email"], user["display_name"]) == ("ada@example.com", "Ada")
    uuid.UUID(user["id"])


@pytest.mark.parametrize("second", ["taken@example.com", "TAKEN@example.com", " Taken@Example.com"])
def test_sign_up_with_a_taken_email_in_any_case_is_a_conflict(
    client: FlaskClient, api: Api, second: str
) -> None:
    api.sign_up(email="taken@example.com")
    response = client.post(
        "/v1/users", json={"email": second, "password": DEFAULT_PASSWORD, "display_name": "Copy"}
    )
    assert response.status_code == 409
    assert response.json is not None
    assert response.json["type"] == "/problems/conflict"
    assert response.json["detail"] == "a user with this email already exists"


def test_sign_up_reports_every_invalid_field_at_once(client: FlaskClient) -> None:
    response = client.post(
        "/v1/users", json={"email": "not-an-email", "password": "short", "display_name": "  "}
    )
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["type"] == "/problems/invalid-input"
    fields = {error["field"]: error["message"] for error in response.json["errors"]}
    assert fields == {
        "email": "is not a valid email address",
        "password": "must be at least 12 characters",
        "display_name": "must not be empty",
    }


def test_get_me(client: FlaskClient, api: Api) -> None:
    user, headers = api.user(display_name="Grace")
    response = client.get("/v1/users/me", headers=headers)
    assert response.status_code == 200
    assert response.json == user


def test_patch_me_changes_only_what_is_sent(client: FlaskClient, api: Api) -> None:
    user, headers = api.user(display_name="Old name")
    renamed = client.patch("/v1/users/me", json={"display_name": " New name "}, headers=headers)
    assert renamed.status_code == 200
    assert renamed.json is not None
    assert renamed.json["display_name"] == "New name"
    assert renamed.json["updated_at"] > user["updated_at"]

    unchanged = client.patch("/v1/users/me", json={}, headers=headers)
    assert unchanged.status_code == 200
    assert unchanged.json == renamed.json


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"display_name": None}, "must be a string"),
        ({"display_name": 42}, "must be a string"),
        ({"display_name": ""}, "must not be empty"),
        ({"display_name": "x" * 101}, "must be at most 100 characters"),
        ({"email": "new@example.com"}, "is not an allowed field"),
    ],
)
def test_patch_me_refuses_invalid_input(
    client: FlaskClient, api: Api, body: dict[str, object], message: str
) -> None:
    _, headers = api.user()
    response = client.patch("/v1/users/me", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["errors"] == [{"field": next(iter(body)), "message": message}]


def test_change_password_logs_out_everywhere(client: FlaskClient, api: Api) -> None:
    user, headers = api.user()
    other_device = bearer(api.log_in(user["email"]))
    response = client.put(
        "/v1/users/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "a new pass phrase 7"},
        headers=headers,
    )
    assert response.status_code == 204
    assert response.data == b""
    for old in (headers, other_device):
        assert client.get("/v1/users/me", headers=old).status_code == 401
    wrong = client.post(
        "/v1/auth/tokens", json={"email": user["email"], "password": DEFAULT_PASSWORD}
    )
    assert wrong.status_code == 401
    assert api.log_in(user["email"], "a new pass phrase 7")


def test_change_password_needs_the_current_one(client: FlaskClient, api: Api) -> None:
    _, headers = api.user()
    response = client.put(
        "/v1/users/me/password",
        json={"current_password": "not the password", "new_password": "a new pass phrase 7"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["errors"] == [
        {"field": "current_password", "message": "is not the current password"}
    ]
    assert client.get("/v1/users/me", headers=headers).status_code == 200


def test_delete_me_deletes_the_user_their_notes_and_tokens(
    client: FlaskClient, api: Api, session: Session
) -> None:
    user, headers = api.user(email="leaving@example.com")
    api.note(headers)
    api.note(headers)
    _, stranger = api.user()
    api.note(stranger)
    owner_id = uuid.UUID(user["id"])

    response = client.delete("/v1/users/me", headers=headers)
    assert response.status_code == 204
    count = select(func.count()).select_from(NoteRow).where(NoteRow.owner_id == owner_id)
    assert session.scalar(count) == 0
    assert client.get("/v1/users/me", headers=headers).status_code == 401
    assert client.get("/v1/notes", headers=stranger).json["items"]  # type: ignore[index]
    assert api.sign_up(email="leaving@example.com")["id"] != user["id"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/users/me"),
        ("PATCH", "/v1/users/me"),
        ("PUT", "/v1/users/me/password"),
        ("DELETE", "/v1/users/me"),
    ],
)
def test_profile_endpoints_need_a_token(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method, json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
