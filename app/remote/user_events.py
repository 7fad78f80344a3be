"""Users' :class:`~app.service.users.relay.UserEventSubscriber` over a ``UserEventsService``.

A service that keeps data by user id in a database of its own (notes, on its own) implements
``backend.v1.UserEventsService``; ``app.bootstrap`` builds one client per such service
(``NOTES_SERVICE_ADDR``). Its RPCs are idempotent, so UNAVAILABLE is retried, and the job
that calls them is retried by the queue beyond that.
"""

from __future__ import annotations

import uuid

from app.remote.grpc import Connection

__all__ = ["UserEventsClient"]


class UserEventsClient:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @property
    def name(self) -> str:
        """The service told, for the log."""
        return self._connection.service

    def user_deleted(self, user_id: uuid.UUID) -> None:
        # Imported here for the reason given in app.remote.users.
        from app.api.grpc.generated.v1 import user_events_pb2, user_events_pb2_grpc

        stub = user_events_pb2_grpc.UserEventsServiceStub(self._connection.channel)
        request = user_events_pb2.UserDeletedRequest(user_id=str(user_id))
        self._connection.call(stub.UserDeleted, request, idempotent=True)
