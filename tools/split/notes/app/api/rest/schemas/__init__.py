"""The JSON the REST API accepts and returns, declared once as pydantic models.

Each feature declares its models in a module of its own; this package gathers those of the
features this service serves (notes), so views and the route table say ``schemas.NoteOut``.
"""

from __future__ import annotations

from app.api.rest.schemas.base import FieldError, Health, OpenApiDocument, Problem
from app.api.rest.schemas.notes import NoteIn, NoteOut, NotePage, NotePatch, NotesQuery

__all__ = [
    "FieldError",
    "Health",
    "NoteIn",
    "NoteOut",
    "NotePage",
    "NotePatch",
    "NotesQuery",
    "OpenApiDocument",
    "Problem",
]
