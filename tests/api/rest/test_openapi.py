"""The OpenAPI document: it lists exactly the routes Flask serves, its schemas are the models'
current ones, and it equals the reviewed copy in ``docs/openapi.json``."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import BaseModel

from app.api.rest import create_app
from app.api.rest.openapi import REF_TEMPLATE, operations, render, schema_modes
from app.config import Settings

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
REGENERATE = "python -m app.api.rest openapi > docs/openapi.json"
_FLASK_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
Route = tuple[str, str, str]


def flask_routes(app: Flask) -> set[Route]:
    """(method, path as OpenAPI writes it, endpoint) for each route; HEAD and OPTIONS are Flask's."""
    return {
        (method, _FLASK_VARIABLE.sub(r"{\1}", rule.rule), rule.endpoint)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def documented_routes(document: dict[str, Any]) -> set[Route]:
    return {
        (method.upper(), path, operation["operationId"].replace("_", ".", 1))
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def schema_drift(document: dict[str, Any], models: dict[type[BaseModel], Any]) -> list[str]:
    """Names of the models whose schema in ``document`` is not what the model says today."""
    components = document["components"]["schemas"]
    drifted = []
    for model, mode in models.items():
        expected = model.model_json_schema(ref_template=REF_TEMPLATE, mode=mode)
        nested = expected.pop("$defs", {})
        for name, schema in [(model.__name__, expected), *nested.items()]:
            if components.get(name) != schema:
                drifted.append(name)
    return drifted


def refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return dict(response.json or {})


def test_the_served_document_is_the_committed_one(document: dict[str, Any]) -> None:
    committed = json.loads(COMMITTED.read_text())
    assert document == committed, f"docs/openapi.json is stale: run `{REGENERATE}`"
    assert COMMITTED.read_text() == render(), f"run `{REGENERATE}`"


def test_it_documents_exactly_the_routes_flask_serves(
    rest_app: Flask, document: dict[str, Any]
) -> None:
    table = {(op.method, op.path, op.endpoint) for op in operations()}
    assert flask_routes(rest_app) == table
    assert documented_routes(document) == table
    assert document["openapi"] == "3.1.0"


def test_the_route_check_catches_drift_either_way(
    settings: Settings, document: dict[str, Any]
) -> None:
    app = create_app(settings)
    app.add_url_rule(
        "/v1/notes/<note_id>/share", "notes.share", lambda note_id: "", methods=["POST"]
    )
    assert flask_routes(app) - documented_routes(document) == {
        ("POST", "/v1/notes/{note_id}/share", "notes.share")
    }
    trimmed = copy.deepcopy(document)
    del trimmed["paths"]["/readyz"]
    assert flask_routes(app) - documented_routes(trimmed) >= {("GET", "/readyz", "health.readyz")}


def test_its_schemas_are_the_models_current_schemas(document: dict[str, Any]) -> None:
    query_models = {op.query for op in operations() if op.query is not None}
    bodies = {m: mode for m, mode in schema_modes().items() if m not in query_models}
    assert schema_drift(document, bodies) == []
    for operation in operations():
        if operation.query is None:
            continue
        parameters = document["paths"][operation.path][operation.method.lower()]["parameters"]
        properties = operation.query.model_json_schema()["properties"]
        assert {p["name"] for p in parameters if p["in"] == "query"} == set(properties)
        for parameter in parameters:
            expected = dict(properties[parameter["name"]])
            assert parameter.get("description") == expected.pop("description", None)
            assert parameter["schema"] == expected


def test_the_schema_check_catches_a_changed_model(document: dict[str, Any]) -> None:
    class NoteIn(BaseModel):  # what a new field on the real NoteIn would look like
        title: str
        body: str = ""
        pinned: bool = False

    assert schema_drift(document, {NoteIn: "validation"}) == ["NoteIn"]


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    prefix = REF_TEMPLATE.format(model="")
    names = {ref.removeprefix(prefix) for ref in refs(document)}
    assert names
    assert names <= set(document["components"]["schemas"])


def test_each_operation_documents_its_statuses_and_security(document: dict[str, Any]) -> None:
    for op in operations():
        spec = document["paths"][op.path][op.method.lower()]
        expected = {str(op.status), *map(str, op.error_statuses()), "default"}
        assert set(spec["responses"]) == expected, op.endpoint
        assert bool(spec["security"]) is op.auth
        assert ("requestBody" in spec) is (op.body is not None)
