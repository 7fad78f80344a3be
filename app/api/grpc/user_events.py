"""``backend.v1.UserEventsService``: the users service tells notes that a user was deleted.

Served where notes runs (it is how a users service in another process reaches it); the RPC
needs no token, because notes deletes nothing before the users service confirms the user is
gone (:meth:`~app.service.notes.service.NotesService.user_deleted`).
"""

from __future__ import annotations

import grpc

from app.api.grpc.generated.v1 import user_events_pb2, user_events_pb2_grpc
from app.bootstrap import Runtime

__all__ = ["UserEventsServicer"]


class UserEventsServicer(user_events_pb2_grpc.UserEventsServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def UserDeleted(
        self, request: user_events_pb2.UserDeletedRequest, context: grpc.ServicerContext
    ) -> user_events_pb2.UserDeletedResponse:
        self._runtime.services().notes.user_deleted(request.user_id)
        return user_events_pb2.UserDeletedResponse()
