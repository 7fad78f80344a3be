"""What every feature's models build on, and the models every deployment serves.

The bases (:class:`RequestBody`, :class:`Query`, :class:`Response`) and the health, problem
and OpenAPI document models; each feature declares its own models in a module of its own.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

__all__ = [
    "FieldError",
    "Health",
    "OpenApiDocument",
    "Problem",
    "Query",
    "RequestBody",
    "Response",
    "patch_member",
]


def drop_null_defaults(schema: JsonDict) -> None:
    """Optional members are left out rather than sent as null; a null default would say otherwise."""
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for member in properties.values():
            if isinstance(member, dict) and "default" in member and member["default"] is None:
                del member["default"]


class RequestBody(BaseModel):
    """A JSON request body: exactly the declared fields, each of exactly its type."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    def sent(self) -> dict[str, Any]:
        """The members the client sent: what a PATCH changes."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class Query(BaseModel):
    """A query string: declared parameters only; numbers are parsed from their text."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Response(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra=drop_null_defaults)


def patch_member(description: str) -> Any:
    """A PATCH member: left out, it stays as it is; it is never null (no unions, so errors
    name the member and nothing else). The placeholder default is not part of the API."""
    return Field(default="", description=description, json_schema_extra=_hide_default)


def _hide_default(schema: JsonDict) -> None:
    schema.pop("default", None)


class Health(Response):
    status: str = Field(description="`ok`")


class FieldError(Response):
    field: str = Field(description="The request field (body member or query parameter).")
    message: str


class Problem(Response):
    """An RFC 9457 problem detail, served as ``application/problem+json``."""

    type: str = Field(description="`/problems/<code>`: one stable value per kind of error.")
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(
        default=None, description="For invalid input: what is wrong, per field."
    )
    request_id: str | None = Field(default=None, description="Quote it when reporting a problem.")


class OpenApiDocument(Response):
    """This document."""

    model_config = ConfigDict(extra="allow", frozen=True)

    openapi: str
