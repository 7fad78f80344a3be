"""The gRPC services this deployment serves: notes, and the user events the users service sends.

Written for this service: the monolith's catalog less users and auth, which stayed behind.
"""

from __future__ import annotations

import uuid

from app.api.grpc.generated.v1 import (
    notes_pb2,
    notes_pb2_grpc,
    user_events_pb2,
    user_events_pb2_grpc,
)
from app.api.grpc.notes import NotesServicer
from app.api.grpc.served import ServedService
from app.api.grpc.user_events import UserEventsServicer
from app.bootstrap import Services

__all__ = ["SERVICES"]


def _by_notes(services: Services, token: str | None) -> uuid.UUID:
    # Notes asks the users service through its port.
    return services.notes.authenticate(token)


SERVICES: tuple[ServedService, ...] = (
    ServedService(
        notes_pb2.DESCRIPTOR.services_by_name["NotesService"],
        lambda runtime, server: notes_pb2_grpc.add_NotesServiceServicer_to_server(
            NotesServicer(runtime), server
        ),
        authenticate=_by_notes,
    ),
    ServedService(
        user_events_pb2.DESCRIPTOR.services_by_name["UserEventsService"],
        lambda runtime, server: user_events_pb2_grpc.add_UserEventsServiceServicer_to_server(
            UserEventsServicer(runtime), server
        ),
        public=frozenset({"UserDeleted"}),
    ),
)
