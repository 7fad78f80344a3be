"""``/v1/notes``: create, read, list (cursor pages, text filter), update, delete; owner-scoped."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.rest.conftest import Api


def test_create_then_read_it_back_at_its_location(client: FlaskClient, api: Api) -> None:
    _, headers = api.user()
    response = client.post(
        "/v1/notes", json={"title": "  Groceries ", "body": "milk"}, headers=headers
    )
    assert response.status_code == 201
    note = response.json
    assert note is not None
    assert set(note) == {"id", "title", "body", "created_at", "updated_at"}
    assert (note["title"], note["body"]) == ("Groceries", "milk")
    assert response.headers["Location"] == f"/v1/notes/{note['id']}"
    again = client.get(response.headers["Location"], headers=headers)
    assert again.status_code == 200
    assert again.json == note


def test_body_is_optional_on_create(client: FlaskClient, api: Api) -> None:
    _, headers = api.user()
    response = client.post("/v1/notes", json={"title": "Only a title"}, headers=headers)
    assert response.status_code == 201
    assert response.json is not None
    assert response.json["body"] == ""


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"title": "is required"}),
        ({"title": " "}, {"title": "must not be empty"}),
        ({"title": "t" * 201}, {"title": "must be at most 200 characters"}),
        ({"title": "ok", "body": "b" * 20_001}, {"body": "must be at most 20000 characters"}),
        ({"title": 1, "body": ["x"]}, {"title": "must be a string", "body": "must be a string"}),
        ({"title": "ok", "owner_id": str(uuid.uuid4())}, {"owner_id": "is not an allowed field"}),
    ],
)
def test_create_refuses_invalid_notes_naming_each_field(
    client: FlaskClient, api: Api, body: dict[str, Any], errors: dict[str, str]
) -> None:
    _, headers = api.user()
    response = client.post("/v1/notes", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json is not None
    assert {e["field"]: e["message"] for e in response.json["errors"]} == errors
    assert client.get("/v1/notes", headers=headers).json == {"items": [], "next_cursor": None}


def test_list_pages_newest_first_until_the_cursor_runs_out(client: FlaskClient, api: Api) -> None:
    _, headers = api.user()
    created = [api.note(headers, title=f"Note {n}")["id"] for n in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        response = client.get("/v1/notes", query_string=query, headers=headers)
        assert response.status_code == 200
        page = response.json
        assert page is not None
        seen += [note["id"] for note in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created[::-1]
    assert pages == 3


def test_list_filters_by_text(client: FlaskClient, api: Api) -> None:
    _, headers = api.user()
    api.note(headers, title="Shopping list", body="milk")
    api.note(headers, title="Ideas", body="buy MILK tea")
    api.note(headers, title="Other", body="nothing")
    response = client.get("/v1/notes?q=milk", headers=headers)
    assert response.status_code == 200
    assert response.json is not None
    assert sorted(n["title"] for n in response.json["items"]) == ["Ideas", "Shopping list"]


def test_list_shows_only_your_notes(client: FlaskClient, api: Api) -> None:
    _, mine = api.user()
    _, theirs = api.user()
    api.note(theirs, title="Theirs")
    api.note(mine, title="Mine")
    response = client.get("/v1/notes", headers=mine)
    assert response.json is not None
    assert [n["title"] for n in response.json["items"]] == ["Mine"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("limit=0", "limit", "must be at least 1"),
        ("limit=101", "limit", "must be at most 100"),
        ("limit=ten", "limit", "must be an integer"),
        ("limit=1.5", "limit", "must be an integer"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor", "is not a cursor this service issued"),
        ("cursor=%25%25%25", "cursor", "is not a cursor this service issued"),
        ("q=" + "x" * 201, "q", "must be at most 200 characters"),
        ("sort=title", "sort", "is not an allowed field"),
        ("limit=1&limit=2", "limit", "must be given at most once"),
    ],
)
def test_list_refuses_bad_query_parameters(
    client: FlaskClient, api: Api, query: str, field: str, message: str
) -> None:
    _, headers = api.user()
    response = client.get(f"/v1/notes?{query}", headers=headers)
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["errors"] == [{"field": field, "message": message}]


def test_update_changes_only_the_fields_sent(client: FlaskClient, api: Api) -> None:
    _, headers = api.user()
    note = api.note(headers, title="Title", body="Body")
    path = f"/v1/notes/{note['id']}"
    retitled = client.patch(path, json={"title": "New title"}, headers=headers)
    assert retitled.status_code == 200
    assert retitled.json is not None
    assert (retitled.json["title"], retitled.json["body"]) == ("New title", "Body")
    emptied = client.patch(path, json={"body": ""}, headers=headers)
    assert emptied.json is not None
    assert (emptied.json["title"], emptied.json["body"]) == ("New title", "")
    assert emptied.json["updated_at"] > note["updated_at"]
    assert client.get(path, headers=headers).json == emptied.json


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"title": None}, {"title": "must be a string"}),
        ({"title": ""}, {"title": "must not be empty"}),
        ({"body": 3}, {"body": "must be a string"}),
        ({"owner_id": "x"}, {"owner_id": "is not an allowed field"}),
    ],
)
def test_update_refuses_invalid_fields(
    client: FlaskClient, api: Api, body: dict[str, Any], errors: dict[str, str]
) -> None:
    _, headers = api.user()
    note = api.note(headers, title="Kept")
    response = client.patch(f"/v1/notes/{note['id']}", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json is not None
    assert {e["field"]: e["message"] for e in response.json["errors"]} == errors
    assert client.get(f"/v1/notes/{note['id']}", headers=headers).json == note


def test_delete(client: FlaskClient, api: Api) -> None:
    _, headers = api.user()
    note = api.note(headers)
    path = f"/v1/notes/{note['id']}"
    response = client.delete(path, headers=headers)
    assert response.status_code == 204
    assert response.data == b""
    assert client.get(path, headers=headers).status_code == 404
    assert client.delete(path, headers=headers).status_code == 404


def test_another_users_note_answers_exactly_like_a_missing_one(
    client: FlaskClient, api: Api
) -> None:
    _, owner = api.user()
    _, stranger = api.user()
    note = api.note(owner, title="Private")
    answers = set()
    for target in (note["id"], str(uuid.uuid4()), "not-an-id"):
        for method, body in [("GET", None), ("PATCH", {"title": "mine now"}), ("DELETE", None)]:
            response = client.open(
                f"/v1/notes/{target}", method=method, json=body, headers=stranger
            )
            problem = dict(response.json or {})
            problem.pop("request_id")
            answers.add((response.status_code, tuple(sorted(problem.items()))))
    assert len(answers) == 1
    status, members = answers.pop()
    assert status == 404
    assert dict(members)["type"] == "/problems/not-found"
    assert client.get(f"/v1/notes/{note['id']}", headers=owner).json == note
