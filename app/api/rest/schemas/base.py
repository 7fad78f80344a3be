"""What every feature's models build on, and the models every deployment serves.

The bases (:class:`RequestBody`, :class:`Query`, :class:`Response`) and the health, problem
and OpenAPI document models; each feature declares its own models in a module of its own.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

__all__ = [
    "EMAIL",
    "NON_BLANK",
    "TEXT",
    "FieldError",
    "Health",
    "OpenApiDocument",
    "Problem",
    "Query",
    "RequestBody",
    "Response",
    "described",
    "patch_member",
]

#: The rules the service layer enforces, as JSON Schema patterns, for the OpenAPI document
#: only: a generated client or a fuzzer then sends what the server accepts. Text holds no NUL
#: (PostgreSQL cannot store it); trimmed text that must not be empty has a character that is
#: not white space; an email address is one ``@`` and a dot after it, nothing blank. White
#: space is spelt out as what Python's ``str.strip()`` strips: ``\\s`` in a JSON Schema pattern
#: is ECMA-262's, which differs (it lacks U+001C to U+001F and U+0085, and has U+FEFF).
_SPACE = (
    "\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
TEXT = "^[^\\u0000]*$"
NON_BLANK = f"^[^\\u0000]*[^{_SPACE}\\u0000][^\\u0000]*$"
_WORD = f"[^@{_SPACE}\\u0000]+"
EMAIL = f"^[{_SPACE}]*{_WORD}@{_WORD}\\.{_WORD}[{_SPACE}]*$"


def described(description: str, default: Any = ..., **constraints: Any) -> Any:
    """A member with its service-layer rules in the document (``maxLength``, ``pattern``...).

    The request models check shape only; the service layer checks these, so that REST and
    gRPC word their refusals alike. The document states them all the same.
    """
    return Field(default=default, description=description, json_schema_extra=constraints)


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


def patch_member(description: str, **constraints: Any) -> Any:
    """A PATCH member: left out, it stays as it is; it is never null (no unions, so errors
    name the member and nothing else). The placeholder default is not part of the API."""

    def document(schema: JsonDict) -> None:
        schema.pop("default", None)
        schema.update(constraints)

    return Field(default="", description=description, json_schema_extra=document)


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
