"""``/v1/notes``: the caller's notes. Another user's note answers exactly like a missing one.

The caller is whoever the notes service says the bearer token belongs to (through its port
to users), so these views work the same whether users runs in this process or not.
"""

from __future__ import annotations

import uuid

from flask import Response, url_for

from app.api.rest import schemas
from app.api.rest.context import bearer_token, services
from app.api.rest.operations import Routes
from app.api.rest.payloads import json_response, no_content

__all__ = ["blueprint"]


def current_owner_id() -> uuid.UUID:
    """The caller, whose notes these are; ``Unauthenticated`` without a valid token."""
    return services().notes.authenticate(bearer_token())


blueprint = Routes("notes", __name__, url_prefix="/v1/notes", authenticate=current_owner_id)
_NOTE = "/<note_id>"


@blueprint.operation(
    "GET", "", "Your notes, newest first", 200, schemas.NotePage, query=schemas.NotesQuery
)
def list_notes(caller: uuid.UUID, query: schemas.NotesQuery) -> Response:
    page = services().notes.list(
        caller, cursor=query.cursor or None, limit=query.limit, query=query.q or None
    )
    return json_response(schemas.NotePage.of(page))


@blueprint.operation(
    "POST",
    "",
    "Create a note",
    201,
    schemas.NoteOut,
    body=schemas.NoteIn,
    location=True,
    links=("notes.get_note", "notes.update_note", "notes.delete_note"),
)
def create_note(caller: uuid.UUID, body: schemas.NoteIn) -> Response:
    note = services().notes.create(caller, title=body.title, body=body.body)
    location = url_for("notes.get_note", note_id=note.id)
    return json_response(schemas.NoteOut.of(note), 201, headers={"Location": location})


@blueprint.operation(
    "GET",
    _NOTE,
    "One of your notes",
    200,
    schemas.NoteOut,
    description="Another user's note is reported exactly like a missing one.",
)
def get_note(caller: uuid.UUID, note_id: str) -> Response:
    note = services().notes.get(caller, note_id)
    return json_response(schemas.NoteOut.of(note))


@blueprint.operation("PATCH", _NOTE, "Change a note", 200, schemas.NoteOut, body=schemas.NotePatch)
def update_note(caller: uuid.UUID, note_id: str, body: schemas.NotePatch) -> Response:
    note = services().notes.update(caller, note_id, **body.sent())
    return json_response(schemas.NoteOut.of(note))


@blueprint.operation("DELETE", _NOTE, "Delete a note", 204)
def delete_note(caller: uuid.UUID, note_id: str) -> Response:
    services().notes.delete(caller, note_id)
    return no_content()
