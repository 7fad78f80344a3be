"""``/v1/notes``: the caller's notes. Another user's note answers exactly like a missing one.

The caller is whoever the notes service says the bearer token belongs to (through its port
to users), so these views work the same whether users runs in this process or not.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, url_for

from app.api.rest import schemas
from app.api.rest.context import bearer_token, services
from app.api.rest.payloads import json_response, no_content, parse_body, parse_query

__all__ = ["blueprint"]

blueprint = Blueprint("notes", __name__, url_prefix="/v1/notes")


def current_owner_id() -> uuid.UUID:
    """The caller, whose notes these are; ``Unauthenticated`` without a valid token."""
    return services().notes.authenticate(bearer_token())


@blueprint.get("")
def list_notes() -> Response:
    owner_id = current_owner_id()
    query = parse_query(schemas.NotesQuery)
    page = services().notes.list(
        owner_id, cursor=query.cursor or None, limit=query.limit, query=query.q or None
    )
    return json_response(schemas.NotePage.of(page))


@blueprint.post("")
def create_note() -> Response:
    owner_id = current_owner_id()
    body = parse_body(schemas.NoteIn)
    note = services().notes.create(owner_id, title=body.title, body=body.body)
    location = url_for("notes.get_note", note_id=note.id)
    return json_response(schemas.NoteOut.of(note), 201, headers={"Location": location})


@blueprint.get("/<note_id>")
def get_note(note_id: str) -> Response:
    note = services().notes.get(current_owner_id(), note_id)
    return json_response(schemas.NoteOut.of(note))


@blueprint.patch("/<note_id>")
def update_note(note_id: str) -> Response:
    owner_id = current_owner_id()
    body = parse_body(schemas.NotePatch)
    note = services().notes.update(owner_id, note_id, **body.sent())
    return json_response(schemas.NoteOut.of(note))


@blueprint.delete("/<note_id>")
def delete_note(note_id: str) -> Response:
    services().notes.delete(current_owner_id(), note_id)
    return no_content()
