"""Notes' :class:`~app.service.notes.users.UserDirectory` over the users service's gRPC API.

``AuthService.ResolveToken`` says whose a token is and ``UsersService.UserExists`` whether a
user exists; both are reads, so UNAVAILABLE is retried (see :mod:`app.remote.grpc`).
``app.bootstrap`` uses this client when ``USERS_SERVICE_ADDR`` is set.

The stubs are imported in the methods: their package (``app.api.grpc``) builds the gRPC
server on top of ``app.bootstrap``, which imports this module.
"""

from __future__ import annotations

import uuid

from app.remote.grpc import Connection
from common.errors import Unauthenticated

__all__ = ["RemoteUserDirectory"]


class RemoteUserDirectory:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def caller_id(self, token: str | None) -> uuid.UUID:
        from app.api.grpc.generated.v1 import auth_pb2, auth_pb2_grpc

        if not token:  # no call needed, so the answer is the same when users is down
            raise Unauthenticated("a valid bearer token is required")
        stub = auth_pb2_grpc.AuthServiceStub(self._connection.channel)
        request = auth_pb2.ResolveTokenRequest(token=token)
        response = self._connection.call(stub.ResolveToken, request, idempotent=True)
        return uuid.UUID(response.user.id)

    def exists(self, user_id: uuid.UUID) -> bool:
        from app.api.grpc.generated.v1 import users_pb2, users_pb2_grpc

        stub = users_pb2_grpc.UsersServiceStub(self._connection.channel)
        request = users_pb2.UserExistsRequest(user_id=str(user_id))
        response = self._connection.call(stub.UserExists, request, idempotent=True)
        return response.exists
