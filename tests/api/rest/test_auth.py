"""``/v1/auth/tokens`` and bearer authentication: log in, log out, and every way a token fails."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient

from app.config import Settings
from tests.api.rest.conftest import Api, bearer
from tests.conftest import TickingClock
from tests.factories import DEFAULT_PASSWORD


def test_log_in_issues_a_token_that_expires_after_the_ttl(
    client: FlaskClient, api: Api, clock: TickingClock, settings: Settings
) -> None:
    user = api.sign_up()
    before = clock.now
    response = client.post(
        "/v1/auth/tokens", json={"email": user["email"].upper(), "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body is not None
    assert set(body) == {"token", "expires_at"}
    expires_at = dt.datetime.fromisoformat(body["expires_at"])
    ttl = dt.timedelta(seconds=settings.token_ttl_seconds)
    assert before + ttl < expires_at < clock.now + ttl + dt.timedelta(seconds=1)
    me = client.get("/v1/users/me", headers=bearer(body["token"]))
    assert me.json == user


def test_a_wrong_password_and_an_unknown_email_fail_alike(client: FlaskClient, api: Api) -> None:
    user = api.sign_up()
    answers = []
    for email, password in [
        (user["email"], "not the password"),
        ("nobody@example.com", DEFAULT_PASSWORD),
        ("not an email", DEFAULT_PASSWORD),
    ]:
        response = client.post("/v1/auth/tokens", json={"email": email, "password": password})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        body = dict(response.json or {})
        body.pop("request_id")
        answers.append(body)
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["type"] == "/problems/unauthenticated"


def test_log_out_revokes_only_this_token(client: FlaskClient, api: Api) -> None:
    user, headers = api.user()
    other = bearer(api.log_in(user["email"]))
    response = client.delete("/v1/auth/tokens/current", headers=headers)
    assert response.status_code == 204
    assert response.data == b""
    assert client.get("/v1/users/me", headers=headers).status_code == 401
    assert client.delete("/v1/auth/tokens/current", headers=headers).status_code == 401
    assert client.get("/v1/users/me", headers=other).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer not-a-token",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "x" * 500,
    ],
)
def test_a_missing_or_invalid_token_is_401_with_a_bearer_challenge(
    client: FlaskClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in [("GET", "/v1/notes"), ("DELETE", "/v1/auth/tokens/current")]:
        response = client.open(path, method=method, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json is not None
        assert response.json["type"] == "/problems/unauthenticated"


def test_the_scheme_is_case_insensitive(client: FlaskClient, api: Api) -> None:
    user = api.sign_up()
    token = api.log_in(user["email"])
    response = client.get("/v1/users/me", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_an_expired_token_is_refused(
    client: FlaskClient, api: Api, clock: TickingClock, settings: Settings
) -> None:
    _, headers = api.user()
    clock.advance(seconds=settings.token_ttl_seconds - 1)
    assert client.get("/v1/users/me", headers=headers).status_code == 200
    clock.advance(seconds=2)
    response = client.get("/v1/users/me", headers=headers)
    assert response.status_code == 401
    assert response.json is not None
    assert response.json["detail"] == "the token is invalid, expired or revoked"
