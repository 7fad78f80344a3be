"""One entry of the gRPC catalog: a service with its servicer, its public RPCs and its callers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor

from app.bootstrap import Runtime, Services

__all__ = ["Authenticate", "ServedService"]

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
