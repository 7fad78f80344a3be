"""Service-layer values as protobuf messages."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2

from app.api.grpc.generated.v1 import notes_pb2, users_pb2
from app.service.notes.service import Note
from app.service.users.service import User

__all__ = ["note_message", "timestamp", "user_message"]


def timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    """An aware datetime as a Timestamp (UTC, microsecond precision)."""
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def user_message(user: User) -> users_pb2.User:
    return users_pb2.User(
        id=str(user.id),
        email=user.email,
        display_name=user.display_name,
        created_at=timestamp(user.created_at),
        updated_at=timestamp(user.updated_at),
    )


def note_message(note: Note) -> notes_pb2.Note:
    return notes_pb2.Note(
        id=str(note.id),
        title=note.title,
        body=note.body,
        created_at=timestamp(note.created_at),
        updated_at=timestamp(note.updated_at),
    )
