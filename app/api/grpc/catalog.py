"""The gRPC services this deployment serves: each with its servicer, its public RPCs, its callers.

:func:`~app.api.grpc.server.create_grpc_server` registers every entry of :data:`SERVICES`
(and reports each to health checks and reflection); the authentication interceptor lets the
entry's public RPCs through without a token and asks the entry's ``authenticate`` who the
caller of the others is. A service that moves out of this process takes its entry with it.
"""

from __future__ import annotations

import uuid

from app.api.grpc.auth import AuthServicer
from app.api.grpc.generated.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    notes_pb2,
    notes_pb2_grpc,
    user_events_pb2,
    user_events_pb2_grpc,
    users_pb2,
    users_pb2_grpc,
)
from app.api.grpc.notes import NotesServicer
from app.api.grpc.served import ServedService
from app.api.grpc.user_events import UserEventsServicer
from app.api.grpc.users import UsersServicer
from app.bootstrap import Services

__all__ = ["SERVICES"]


def _by_auth(services: Services, token: str | None) -> uuid.UUID:
    return services.auth.resolve_user_id(token)


def _by_notes(services: Services, token: str | None) -> uuid.UUID:
    # Notes asks through its port, so its RPCs work alike with users in this process or not.
    return services.notes.authenticate(token)


SERVICES: tuple[ServedService, ...] = (
    ServedService(
        users_pb2.DESCRIPTOR.services_by_name["UsersService"],
        lambda runtime, server: users_pb2_grpc.add_UsersServiceServicer_to_server(
            UsersServicer(runtime), server
        ),
        public=frozenset({"SignUp", "UserExists"}),
        authenticate=_by_auth,
    ),
    ServedService(
        auth_pb2.DESCRIPTOR.services_by_name["AuthService"],
        lambda runtime, server: auth_pb2_grpc.add_AuthServiceServicer_to_server(
            AuthServicer(runtime), server
        ),
        # ResolveToken carries the token it is about in its request.
        public=frozenset({"LogIn", "ResolveToken"}),
        authenticate=_by_auth,
    ),
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
