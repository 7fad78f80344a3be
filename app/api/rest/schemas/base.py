"""The JSON the REST API accepts and returns, declared once as pydantic models.

Request models refuse unknown fields and coerce nothing (a number where text is expected is
an error); they check shape only. What the values must look like (lengths, email format,
password strength) is the service layer's rule, so REST and gRPC report it the same way;
the descriptions below quote those rules for the OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from app.service.auth.service import IssuedToken
from app.service.notes.service import MAX_BODY_LENGTH, MAX_QUERY_LENGTH, MAX_TITLE_LENGTH, Note
from app.service.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page
from app.service.users.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.service.users.service import MAX_DISPLAY_NAME_LENGTH, MAX_EMAIL_LENGTH, User

__all__ = [
    "FieldError",
    "Health",
    "LogIn",
    "NoteIn",
    "NoteOut",
    "NotePage",
    "NotePatch",
    "NotesQuery",
    "OpenApiDocument",
    "PasswordChange",
    "Problem",
    "ProfilePatch",
    "SignUp",
    "Token",
    "UserOut",
]

_PASSWORD = f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters, not containing the email"


def _drop_null_defaults(schema: JsonDict) -> None:
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
    model_config = ConfigDict(frozen=True, json_schema_extra=_drop_null_defaults)


def _patch_member(description: str) -> Any:
    """A PATCH member: left out, it stays as it is; it is never null (no unions, so errors
    name the member and nothing else). The placeholder default is not part of the API."""
    return Field(default="", description=description, json_schema_extra=_hide_default)


def _hide_default(schema: JsonDict) -> None:
    schema.pop("default", None)


# -- users and auth ---------------------------------------------------------------------------
class SignUp(RequestBody):
    email: str = Field(
        description=f"A valid address, at most {MAX_EMAIL_LENGTH} characters; case-insensitive."
    )
    password: str = Field(description=_PASSWORD)
    display_name: str = Field(description=f"1 to {MAX_DISPLAY_NAME_LENGTH} characters, trimmed.")


class LogIn(RequestBody):
    email: str
    password: str


class ProfilePatch(RequestBody):
    display_name: str = _patch_member(f"1 to {MAX_DISPLAY_NAME_LENGTH} characters, trimmed.")


class PasswordChange(RequestBody):
    current_password: str
    new_password: str = Field(description=_PASSWORD)


class UserOut(Response):
    id: uuid.UUID
    email: str
    display_name: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class Token(Response):
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: dt.datetime

    @classmethod
    def of(cls, issued: IssuedToken) -> Token:
        return cls(token=issued.token, expires_at=issued.expires_at)


# -- notes ------------------------------------------------------------------------------------
_TITLE = f"1 to {MAX_TITLE_LENGTH} characters, trimmed."
_BODY = f"At most {MAX_BODY_LENGTH} characters, trimmed."


class NoteIn(RequestBody):
    title: str = Field(description=_TITLE)
    body: str = Field(default="", description=_BODY)


class NotePatch(RequestBody):
    """Only the fields sent change."""

    title: str = _patch_member(_TITLE)
    body: str = _patch_member(_BODY)


class NotesQuery(Query):
    cursor: str = Field(
        default="", description="`next_cursor` of the previous page; omit for the first."
    )
    limit: int = Field(
        default=DEFAULT_PAGE_SIZE,
        ge=1,
        le=MAX_PAGE_SIZE,
        description="Page size.",
    )
    q: str = Field(
        default="",
        description=f"Only notes whose title or body contains this text (at most {MAX_QUERY_LENGTH} characters).",
    )


class NoteOut(Response):
    id: uuid.UUID
    title: str
    body: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, note: Note) -> NoteOut:
        return cls(
            id=note.id,
            title=note.title,
            body=note.body,
            created_at=note.created_at,
            updated_at=note.updated_at,
        )


class NotePage(Response):
    """Newest first."""

    items: list[NoteOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last."
    )

    @classmethod
    def of(cls, page: Page[Note]) -> NotePage:
        return cls(items=[NoteOut.of(note) for note in page.items], next_cursor=page.next_cursor)


# -- health and errors ------------------------------------------------------------------------
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
