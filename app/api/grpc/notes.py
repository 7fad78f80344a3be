"""``backend.v1.NotesService``: the caller's notes.

The caller is whoever the notes service says the bearer token belongs to (through its port
to users): the catalog (:mod:`app.api.grpc.catalog`) tells the authentication interceptor so.
"""

from __future__ import annotations

import grpc

from app.api.grpc.context import current_caller
from app.api.grpc.errors import renamed_fields
from app.api.grpc.generated.v1 import notes_pb2, notes_pb2_grpc
from app.api.grpc.messages import note_message
from app.bootstrap import Runtime

__all__ = ["NotesServicer"]

#: The service layer names the text filter after REST's query parameter; here it is `query`.
_LIST_FIELDS = {"q": "query"}


class NotesServicer(notes_pb2_grpc.NotesServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def CreateNote(
        self, request: notes_pb2.CreateNoteRequest, context: grpc.ServicerContext
    ) -> notes_pb2.CreateNoteResponse:
        note = self._runtime.services().notes.create(
            current_caller().user_id, title=request.title, body=request.body
        )
        return notes_pb2.CreateNoteResponse(note=note_message(note))

    def GetNote(
        self, request: notes_pb2.GetNoteRequest, context: grpc.ServicerContext
    ) -> notes_pb2.GetNoteResponse:
        note = self._runtime.services().notes.get(current_caller().user_id, request.note_id)
        return notes_pb2.GetNoteResponse(note=note_message(note))

    def ListNotes(
        self, request: notes_pb2.ListNotesRequest, context: grpc.ServicerContext
    ) -> notes_pb2.ListNotesResponse:
        with renamed_fields(_LIST_FIELDS):
            page = self._runtime.services().notes.list(
                current_caller().user_id,
                cursor=request.cursor or None,
                limit=request.limit if request.HasField("limit") else None,
                query=request.query or None,
            )
        return notes_pb2.ListNotesResponse(
            notes=[note_message(note) for note in page.items], next_cursor=page.next_cursor or ""
        )

    def UpdateNote(
        self, request: notes_pb2.UpdateNoteRequest, context: grpc.ServicerContext
    ) -> notes_pb2.UpdateNoteResponse:
        note = self._runtime.services().notes.update(
            current_caller().user_id,
            request.note_id,
            title=request.title if request.HasField("title") else None,
            body=request.body if request.HasField("body") else None,
        )
        return notes_pb2.UpdateNoteResponse(note=note_message(note))

    def DeleteNote(
        self, request: notes_pb2.DeleteNoteRequest, context: grpc.ServicerContext
    ) -> notes_pb2.DeleteNoteResponse:
        self._runtime.services().notes.delete(current_caller().user_id, request.note_id)
        return notes_pb2.DeleteNoteResponse()
