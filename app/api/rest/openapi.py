"""The OpenAPI 3.1 document of the features this service serves, built from their declared
operations (:mod:`app.api.rest.operations`) and the pydantic models those name.

Served at ``GET /openapi.json``; ``python -m app.api.rest openapi`` prints it, which is how
``docs/openapi.json`` (the reviewed copy, checked by a test) is regenerated.
"""

from __future__ import annotations

import functools
import http
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from flask import Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.api.rest import schemas
from app.api.rest.errors import PROBLEM_MEDIA_TYPE
from app.api.rest.features import API_DESCRIPTION, API_TITLE, FEATURES
from app.api.rest.operations import Operation, Routes, declared_operations

__all__ = [
    "REF_TEMPLATE",
    "blueprint",
    "build_document",
    "operations",
    "render",
    "schema_modes",
]

REF_TEMPLATE = "#/components/schemas/{model}"
VERSION = "1.0.0"
_SECURITY_SCHEME = "bearerToken"
_PATH_PARAMETER = re.compile(r"{([^}]+)}")

JsonSchemaMode = Literal["validation", "serialization"]

blueprint: Routes[None] = Routes("openapi", __name__)


@blueprint.operation(
    "GET", "/openapi.json", "This OpenAPI document", 200, schemas.OpenApiDocument, auth=False
)
def document() -> Response:
    return Response(json.dumps(build_document()), mimetype="application/json")


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Every operation this service serves: its features', then this document's."""
    return declared_operations([*(feature.blueprint for feature in FEATURES), blueprint])


def schema_modes(
    served: Iterable[Operation] | None = None,
) -> dict[type[BaseModel], JsonSchemaMode]:
    """Each model the document describes, read as input (validation) or output (serialization)."""
    modes: dict[type[BaseModel], JsonSchemaMode] = {schemas.Problem: "serialization"}
    for operation in operations() if served is None else served:
        for model in (operation.body, operation.query):
            if model is not None:
                modes[model] = "validation"
        if operation.response is not None:
            modes[operation.response] = "serialization"
    return modes


@functools.cache
def build_document() -> dict[str, Any]:
    """The whole document; the same for the life of the process, so built once."""
    modes = schema_modes()
    bodies = {model: mode for model, mode in modes.items() if not _is_query(model)}
    refs, definitions = models_json_schema(list(bodies.items()), ref_template=REF_TEMPLATE)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": API_TITLE,
            "version": VERSION,
            "description": API_DESCRIPTION,
        },
        "paths": {},
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                _SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `POST /v1/auth/tokens`.",
                }
            },
        },
    }
    for operation in operations():
        path = document["paths"].setdefault(operation.path, {})
        path[operation.method.lower()] = _operation(operation, refs)
    return document


def _operation_id(endpoint: str) -> str:
    return endpoint.replace(".", "_")


def _by_endpoint(endpoint: str) -> Operation:
    return next(operation for operation in operations() if operation.endpoint == endpoint)


def _is_query(model: type[BaseModel]) -> bool:
    return any(operation.query is model for operation in operations())


def _operation(
    operation: Operation, refs: Mapping[tuple[Any, JsonSchemaMode], Any]
) -> dict[str, Any]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "format": "uuid"},
        }
        for name in _PATH_PARAMETER.findall(operation.path)
    ]
    if operation.query is not None:
        parameters += _query_parameters(operation.query)
    spec: dict[str, Any] = {
        "operationId": _operation_id(operation.endpoint),
        "summary": operation.summary,
        "tags": [operation.tag],
        "security": [{_SECURITY_SCHEME: []}] if operation.auth else [],
    }
    if operation.description:
        spec["description"] = operation.description
    if parameters:
        spec["parameters"] = parameters
    if operation.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(operation.body, "validation")]}},
        }
    spec["responses"] = _responses(operation, refs)
    return spec


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF_TEMPLATE, mode="validation")
    required = set(schema.get("required", ()))
    parameters = []
    for name, property_schema in schema["properties"].items():
        parameter_schema = dict(property_schema)
        description = parameter_schema.pop("description", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": parameter_schema,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _responses(
    operation: Operation, refs: Mapping[tuple[Any, JsonSchemaMode], Any]
) -> dict[str, Any]:
    success: dict[str, Any] = {"description": http.HTTPStatus(operation.status).phrase}
    if operation.response is not None:
        schema = refs[(operation.response, "serialization")]
        success["content"] = {"application/json": {"schema": schema}}
    if operation.location:
        success["headers"] = {
            "Location": {"description": "The new resource.", "schema": {"type": "string"}}
        }
    if operation.links:
        success["links"] = {
            _operation_id(target): {
                "operationId": _operation_id(target),
                "parameters": dict.fromkeys(
                    _PATH_PARAMETER.findall(_by_endpoint(target).path), "$response.body#/id"
                ),
            }
            for target in operation.links
        }
    responses: dict[str, Any] = {str(operation.status): success}
    problem = {"schema": refs[(schemas.Problem, "serialization")]}
    for status in operation.error_statuses():
        responses[str(status)] = {
            "description": http.HTTPStatus(status).phrase,
            "content": {PROBLEM_MEDIA_TYPE: problem},
        }
    if 401 in operation.error_statuses():
        responses["401"]["headers"] = {
            "WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}
        }
    if 429 in operation.error_statuses():
        responses["429"]["headers"] = {
            "Retry-After": {
                "description": "Seconds until an attempt may succeed.",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    responses["default"] = {
        "description": "Any other failure (500, 503, 405...)",
        "content": {PROBLEM_MEDIA_TYPE: problem},
    }
    return responses


def render() -> str:
    """The document as committed in ``docs/openapi.json``: stable order, one member a line."""
    return json.dumps(build_document(), indent=2, sort_keys=True) + "\n"
