"""The operations of notes: the caller's notes, one by one and page by page."""

from __future__ import annotations

from app.api.rest import schemas
from app.api.rest.routes.operation import Operation

__all__ = ["OPERATIONS"]

_NOTE = "/v1/notes/{note_id}"

OPERATIONS: tuple[Operation, ...] = (
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
        links=("notes.get_note", "notes.update_note", "notes.delete_note"),
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
)
