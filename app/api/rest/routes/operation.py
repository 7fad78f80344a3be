"""The route table: every REST operation with its models and statuses, in one place.

The views read their input through the models declared here (``payloads`` refuses a view that
names another), the OpenAPI document is built from this table, and the tests check that
Flask's URL map, this table and the served document list the same operations.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from app.api.rest import schemas

__all__ = ["OPERATIONS", "Operation", "declared_operation"]


@dataclass(frozen=True, slots=True)
class Operation:
    endpoint: str
    """Flask's endpoint name: ``<blueprint>.<view function>``."""
    method: str
    path: str
    """As OpenAPI writes it: ``/v1/notes/{note_id}``."""
    summary: str
    status: int
    """The success status."""
    response: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    auth: bool = True
    """Needs ``Authorization: Bearer <token>``."""
    errors: tuple[int, ...] = ()
    """Statuses this operation itself can answer with, beyond those its inputs imply."""
    location: bool = False
    """A 201 that names the new resource in ``Location``."""
    description: str = ""

    @property
    def tag(self) -> str:
        return self.endpoint.partition(".")[0]

    def error_statuses(self) -> tuple[int, ...]:
        """Every documented failure status; anything else is the document's ``default``."""
        statuses = set(self.errors)
        if self.body is not None:
            statuses |= {400, 413, 415, 422}
        if self.query is not None:
            statuses.add(422)
        if self.auth:
            statuses.add(401)
        if "{" in self.path:
            statuses.add(404)
        return tuple(sorted(statuses))


_NOTE = "/v1/notes/{note_id}"

OPERATIONS: tuple[Operation, ...] = (
    # users
    Operation(
        "users.sign_up",
        "POST",
        "/v1/users",
        "Sign up",
        201,
        schemas.UserOut,
        body=schemas.SignUp,
        auth=False,
        errors=(409,),
        location=True,
        description="Emails are unique regardless of case. Log in afterwards for a token.",
    ),
    Operation("users.get_me", "GET", "/v1/users/me", "Your profile", 200, schemas.UserOut),
    Operation(
        "users.update_me",
        "PATCH",
        "/v1/users/me",
        "Change your profile",
        200,
        schemas.UserOut,
        body=schemas.ProfilePatch,
    ),
    Operation(
        "users.change_password",
        "PUT",
        "/v1/users/me/password",
        "Change your password",
        204,
        body=schemas.PasswordChange,
        description="Needs the current password. Revokes every token of the user, this one too.",
    ),
    Operation(
        "users.delete_me",
        "DELETE",
        "/v1/users/me",
        "Delete your account",
        204,
        description="Deletes the user, their notes and their tokens.",
    ),
    # auth
    Operation(
        "auth.log_in",
        "POST",
        "/v1/auth/tokens",
        "Log in",
        201,
        schemas.Token,
        body=schemas.LogIn,
        auth=False,
        errors=(401,),
        description="The same 401 whether the email is unknown or the password wrong.",
    ),
    Operation("auth.log_out", "DELETE", "/v1/auth/tokens/current", "Log out", 204),
    # notes
    Operation(
        "notes.list_notes",
        "GET",
        "/v1/notes",
        "Your notes, newest first",
        200,
        schemas.NotePage,
        query=schemas.NotesQuery,
    ),
    Operation(
        "notes.create_note",
        "POST",
        "/v1/notes",
        "Create a note",
        201,
        schemas.NoteOut,
        body=schemas.NoteIn,
        location=True,
    ),
    Operation(
        "notes.get_note",
        "GET",
        _NOTE,
        "One of your notes",
        200,
        schemas.NoteOut,
        description="Another user's note is reported exactly like a missing one.",
    ),
    Operation(
        "notes.update_note",
        "PATCH",
        _NOTE,
        "Change a note",
        200,
        schemas.NoteOut,
        body=schemas.NotePatch,
    ),
    Operation("notes.delete_note", "DELETE", _NOTE, "Delete a note", 204),
    # health and this document
    Operation(
        "health.healthz",
        "GET",
        "/healthz",
        "Liveness: the process answers",
        200,
        schemas.Health,
        auth=False,
        description="Touches no dependency.",
    ),
    Operation(
        "health.readyz",
        "GET",
        "/readyz",
        "Readiness: the database answers",
        200,
        schemas.Health,
        auth=False,
        errors=(503,),
    ),
    Operation(
        "openapi.document",
        "GET",
        "/openapi.json",
        "This OpenAPI document",
        200,
        schemas.OpenApiDocument,
        auth=False,
    ),
)


@functools.cache
def _by_endpoint() -> Mapping[str, Operation]:
    return {operation.endpoint: operation for operation in OPERATIONS}


def declared_operation(endpoint: str | None) -> Operation:
    """The table's row for a Flask endpoint."""
    try:
        return _by_endpoint()[endpoint or ""]
    except KeyError:
        raise LookupError(f"no operation is declared for endpoint {endpoint!r}") from None
