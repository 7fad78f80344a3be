"""Service-layer values as protobuf messages: timestamps and notes (users' are in ``users``)."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2

from app.api.grpc.generated.v1 import notes_pb2
from app.service.notes.service import Note

__all__ = ["note_message", "timestamp"]


def timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    """An aware datetime as a Timestamp (UTC, microsecond precision)."""
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def note_message(note: Note) -> notes_pb2.Note:
    return notes_pb2.Note(
        id=str(note.id),
        title=note.title,
        body=note.body,
        created_at=timestamp(note.created_at),
        updated_at=timestamp(note.updated_at),
    )
