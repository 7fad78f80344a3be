"""The JSON the REST API accepts and returns, declared once as pydantic models.

Request models refuse unknown fields and coerce nothing (a number where text is expected is
an error); they check shape only. What the values must look like (lengths, email format,
password strength) is the service layer's rule, so REST and gRPC report it the same way;
the descriptions quote those rules for the OpenAPI document.

Each feature declares its models in a module of its own; this package gathers those of the
features this service serves, so views and their declarations say ``schemas.NoteOut``.
"""

from __future__ import annotations

from app.api.rest.schemas.base import FieldError, Health, OpenApiDocument, Problem
from app.api.rest.schemas.notes import NoteIn, NoteOut, NotePage, NotePatch, NotesQuery
from app.api.rest.schemas.users import (
    LogIn,
    PasswordChange,
    ProfilePatch,
    SignUp,
    Token,
    UserOut,
)

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
