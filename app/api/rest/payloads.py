"""Request bodies and query strings in, JSON out, validated against the models in ``schemas``.

A body that cannot be read raises :class:`~app.api.rest.errors.MalformedRequest` or
:class:`~app.api.rest.errors.UnsupportedMediaType`; one that can be read but does not fit its
model raises :class:`~common.errors.InvalidInput` naming each field, in the service layer's
wording, so the error table serves both the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from flask import Response, request
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from app.api.rest.errors import MalformedRequest, UnsupportedMediaType
from common.errors import InvalidInput

__all__ = ["json_response", "no_content", "parse_body", "parse_query"]

ModelT = TypeVar("ModelT", bound=BaseModel)

JSON_MEDIA_TYPE = "application/json"

#: pydantic's error types in the wording the service layer uses for the same faults.
_MESSAGES: Mapping[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not an allowed field",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
}


def parse_body(model: type[ModelT]) -> ModelT:
    """The JSON body of the current request as ``model``."""
    if request.mimetype != JSON_MEDIA_TYPE:
        raise UnsupportedMediaType(f"send the body as {JSON_MEDIA_TYPE}")
    data = request.get_data(cache=False)  # 413 from werkzeug past MAX_CONTENT_LENGTH
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if any(e["type"] == "json_invalid" for e in errors):
            raise MalformedRequest("the body is not valid JSON") from exc
        if any(not e["loc"] for e in errors):
            raise MalformedRequest("the body must be a JSON object") from exc
        raise _invalid(errors, "the request body is invalid") from exc


def parse_query(model: type[ModelT]) -> ModelT:
    """The query string of the current request as ``model``; each parameter at most once."""
    values: dict[str, str] = {}
    repeated: dict[str, str] = {}
    for name, given in request.args.lists():
        if len(given) > 1:
            repeated[name] = "must be given at most once"
        values[name] = given[0]
    if repeated:
        raise InvalidInput("the query string is invalid", repeated)
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        raise _invalid(errors, "the query string is invalid") from exc


def json_response(
    model: BaseModel, status: int = 200, *, headers: Mapping[str, str] | None = None
) -> Response:
    response = Response(model.model_dump_json(), status=status, mimetype=JSON_MEDIA_TYPE)
    response.headers.update(headers or {})
    return response


def no_content() -> Response:
    """A 204: no body, so no content type either."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


def _invalid(errors: list[ErrorDetails], message: str) -> InvalidInput:
    fields: dict[str, str] = {}
    for error in errors:
        field = ".".join(str(part) for part in error["loc"])
        text = _message(error)
        fields[field] = f"{fields[field]}; {text}" if field in fields else text
    return InvalidInput(message, fields)


def _message(error: ErrorDetails) -> str:
    template = _MESSAGES.get(error["type"])
    if template is None:  # pragma: no cover - every constraint the models use today is mapped
        return error["msg"]
    return template.format(**error.get("ctx", {}))
