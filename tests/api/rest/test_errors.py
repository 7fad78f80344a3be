"""The problem format, the error table, and input that cannot be read: never a 500 for it."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.api.rest.errors import STATUS_TABLE, status_for
from app.api.rest.operations import Routes
from app.service.notes.service import NotesService
from common import errors
from common.logs import current_request_id
from tests.api.rest.conftest import Api

# The statuses the REST API promises for the error tree; the gRPC table mirrors these.
EXPECTED = [
    (errors.InvalidInput("bad", {"title": "is wrong"}), 422, "invalid-input"),
    (errors.NotFound("gone"), 404, "not-found"),
    (errors.Conflict("clash"), 409, "conflict"),
    (errors.Unauthenticated("who?"), 401, "unauthenticated"),
    (errors.PermissionDenied("no"), 403, "permission-denied"),
    (errors.Unavailable("down"), 503, "unavailable"),
    (errors.RateLimited("slow down", retry_after=42), 429, "rate-limited"),
]


def test_every_error_of_the_tree_has_its_own_row() -> None:
    tree = {
        value
        for value in map(vars(errors).get, errors.__all__)
        if isinstance(value, type) and issubclass(value, errors.ServiceError)
    }
    assert tree <= set(STATUS_TABLE)
    assert {type(error) for error, _, _ in EXPECTED} == tree - {errors.ServiceError}


def test_an_error_without_a_row_gets_its_nearest_base_s() -> None:
    class Gone(errors.NotFound):
        code = "gone"

    class Novel(errors.ServiceError):
        code = "novel"

    assert status_for(Gone("x")).code == 404
    assert status_for(Novel("x")).code == 400


@pytest.mark.parametrize(("error", "status", "code"), EXPECTED)
def test_service_errors_become_problems_through_the_table(
    unchecked_client: FlaskClient,
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    error: errors.ServiceError,
    status: int,
    code: str,
) -> None:
    _, headers = api.user()

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(NotesService, "list", fail)
    response = unchecked_client.get("/v1/notes", headers=headers)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert problem is not None
    assert problem["type"] == f"/problems/{code}"
    assert problem["title"] == STATUS_TABLE[type(error)].title
    assert (problem["status"], problem["detail"]) == (status, error.message)
    if isinstance(error, errors.InvalidInput):
        assert problem["errors"] == [{"field": "title", "message": "is wrong"}]
    else:
        assert "errors" not in problem
    for name, value in STATUS_TABLE[type(error)].headers:
        assert response.headers[name] == value
    if isinstance(error, errors.RateLimited):
        assert response.headers["Retry-After"] == "42"  # the error's own wait


def test_an_unexpected_exception_is_a_logged_500_that_reveals_nothing(
    client: FlaskClient,
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, headers = api.user()
    seen: list[str | None] = []

    def explode(*args: object, **kwargs: object) -> None:
        seen.append(current_request_id())
        raise RuntimeError("password=hunter2 at /srv/app/secret.py")

    monkeypatch.setattr(NotesService, "list", explode)
    with caplog.at_level(logging.ERROR, logger="app.api.rest.errors"):
        response = client.get("/v1/notes", headers=headers | {"X-Request-ID": "trace-500"})
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response.json == {
        "type": "/problems/internal",
        "title": "Internal server error",
        "status": 500,
        "detail": "the server failed to handle the request; quote the request id if you report it",
        "request_id": "trace-500",
    }
    assert b"hunter2" not in response.data
    assert b"RuntimeError" not in response.data
    [record] = [r for r in caplog.records if r.name == "app.api.rest.errors"]
    assert record.exc_info is not None
    assert "hunter2" in str(record.exc_info[1])
    assert seen == ["trace-500"]


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_json_is_415(client: FlaskClient, content_type: str | None) -> None:
    kwargs: dict[str, Any] = {"data": '{"title": "x"}'}
    if content_type:
        kwargs["content_type"] = content_type
    response = client.post("/v1/users", **kwargs)
    assert response.status_code == 415
    assert response.json is not None
    assert response.json["type"] == "/problems/unsupported-media-type"


def test_a_charset_parameter_is_fine(client: FlaskClient) -> None:
    response = client.post(
        "/v1/auth/tokens",
        data='{"email": "a@example.com", "password": "whatever-it-is"}',
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"", "the body is not valid JSON"),
        (b"{", "the body is not valid JSON"),
        (b"{'email': 'single quotes'}", "the body is not valid JSON"),
        (b'{"email": "a@example.com",}', "the body is not valid JSON"),
        (b"\xff\xfe{}", "the body is not valid JSON"),
        (b"[]", "the body must be a JSON object"),
        (b'"a string"', "the body must be a JSON object"),
        (b"null", "the body must be a JSON object"),
    ],
)
def test_malformed_json_is_400(client: FlaskClient, data: bytes, detail: str) -> None:
    response = client.post("/v1/users", data=data, content_type="application/json")
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["type"] == "/problems/malformed-request"
    assert response.json["detail"] == detail
    assert "errors" not in response.json


def test_unknown_fields_and_wrong_types_are_422_naming_each_field(client: FlaskClient) -> None:
    response = client.post(
        "/v1/users",
        json={"email": ["a@example.com"], "password": 1234567890123, "role": "admin"},
    )
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["detail"] == "the request body is invalid"
    assert response.json["errors"] == [
        {"field": "display_name", "message": "is required"},
        {"field": "email", "message": "must be a string"},
        {"field": "password", "message": "must be a string"},
        {"field": "role", "message": "is not an allowed field"},
    ]


@pytest.mark.parametrize("value", [1, 1.5, True, {"a": 1}, None])
def test_nothing_is_coerced_to_a_string(client: FlaskClient, value: object) -> None:
    response = client.post("/v1/auth/tokens", json={"email": "a@example.com", "password": value})
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["errors"] == [{"field": "password", "message": "must be a string"}]


def test_a_body_over_the_limit_is_413(client: FlaskClient, rest_app: Flask) -> None:
    limit = rest_app.config["MAX_CONTENT_LENGTH"]
    padding = "x" * limit
    response = client.post(
        "/v1/users",
        json={"email": "a@example.com", "password": padding, "display_name": "Big"},
    )
    assert response.status_code == 413
    assert response.json is not None
    assert response.json["type"] == "/problems/content-too-large"


def test_the_largest_note_fits_under_the_limit(client: FlaskClient, api: Api) -> None:
    _, headers = api.user()
    # 20,000 characters that JSON escapes as 12 bytes each: about 240 KB on the wire.
    response = client.post(
        "/v1/notes", json={"title": "🎉" * 200, "body": "🎉" * 20_000}, headers=headers
    )
    assert response.status_code == 201


def test_an_unknown_route_is_a_404_problem(client: FlaskClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json is not None
    assert (response.json["type"], response.json["title"]) == ("/problems/not-found", "Not found")


def test_a_wrong_method_is_a_405_problem_with_allow(client: FlaskClient) -> None:
    response = client.put("/v1/notes", json={})
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert response.json is not None
    assert response.json["type"] == "/problems/method-not-allowed"


def test_without_a_valid_token_it_is_401_whatever_the_body_or_query(client: FlaskClient) -> None:
    """The caller is known before the input is read: nothing about the input leaks to a
    client without a token."""
    for response in (
        client.post("/v1/notes", data=b"{not json", content_type="application/json"),
        client.post("/v1/notes", data=b"title=x", content_type="text/plain"),
        client.patch("/v1/users/me", json={"display_name": 7}),
        client.get("/v1/notes?limit=-1&limit=2"),
    ):
        assert response.status_code == 401


def test_an_operation_that_needs_a_token_needs_a_way_to_authenticate() -> None:
    routes: Routes[None] = Routes("stray", __name__)
    with pytest.raises(TypeError, match=r"needs Routes\(authenticate=\.\.\.\)"):
        routes.operation("GET", "/stray", "A stray", 200)
