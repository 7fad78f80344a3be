"""The gRPC services this deployment serves: each with its servicer, its public RPCs, its callers.

:func:`~app.api.grpc.server.create_grpc_server` registers every entry of :data:`SERVICES`
(and reports each to health checks and reflection); the authentication interceptor lets the
entry's public RPCs through without a token and asks the entry's ``authenticate`` who the
caller of the others is. A service that moves out of this process takes its entry with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor

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
from app.api.grpc.user_events import UserEventsServicer
from app.api.grpc.users import UsersServicer
from app.bootstrap import Runtime, Services

__all__ = ["SERVICES", "Authenticate", "ServedService"]

#: Who the caller of a bearer token is, asked of the services of the RPC's unit of work.
Authenticate = Callable[[Services, "str | None"], uuid.UUID]


@dataclass(frozen=True, slots=True)
class ServedService:
    """One gRPC service: its descriptor, how to add its servicer, who may call what."""

    descriptor: ServiceDescriptor
    add_to_server: Callable[[Runtime, grpc.Server], Any]
    #: RPCs served without a token (names as in the ``.proto``).
    public: frozenset[str] = frozenset()
    #: How the caller of every other RPC is found; ``None`` when all RPCs are public.
    authenticate: Authenticate | None = None

    def __post_init__(self) -> None:
        unknown = self.public - set(self.descriptor.methods_by_name)
        if unknown:  # a renamed RPC fails here, not as a silently protected method
            raise ValueError(f"{self.name} has no RPC {sorted(unknown)}")
        if self.authenticate is None and self.public != set(self.descriptor.methods_by_name):
            raise ValueError(f"{self.name} has RPCs that need a token but no way to check it")

    @property
    def name(self) -> str:
        """The full name, as health checks, reflection and method paths know it."""
        return self.descriptor.full_name

    def public_methods(self) -> frozenset[str]:
        """The public RPCs as ``/package.Service/Rpc`` paths."""
        return frozenset(f"/{self.name}/{rpc}" for rpc in self.public)


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
