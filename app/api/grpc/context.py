"""What a servicer needs from the RPC beyond its request: who is calling, with which token.

The authentication interceptor resolves the bearer token of the ``authorization`` metadata
and binds the :class:`Caller` for the duration of the RPC; servicers read it with
:func:`current_caller`.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = [
    "AUTHORIZATION_KEY",
    "Caller",
    "bearer_token",
    "bind_caller",
    "client_address",
    "current_caller",
]

AUTHORIZATION_KEY = "authorization"

_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("grpc_caller", default=None)


@dataclass(frozen=True, slots=True)
class Caller:
    """The user an RPC acts for, and the token that proved it (LogOut revokes that one)."""

    user_id: uuid.UUID
    token: str


def bearer_token(metadata: Iterable[tuple[str, str | bytes]]) -> str | None:
    """The token of ``authorization: Bearer <token>``; ``None`` when absent or another scheme."""
    for key, value in metadata:
        if key == AUTHORIZATION_KEY and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer":
                return token.strip() or None
            return None
    return None


@contextlib.contextmanager
def bind_caller(caller: Caller) -> Iterator[Caller]:
    reset = _caller.set(caller)
    try:
        yield caller
    finally:
        _caller.reset(reset)


def current_caller() -> Caller:
    """The authenticated caller of the current RPC."""
    caller = _caller.get()
    if caller is None:
        raise RuntimeError("no authenticated caller: is this RPC listed as public?")
    return caller


def client_address(peer: str) -> str | None:
    """The client's IP address from ``ServicerContext.peer()`` (``ipv4:10.0.0.7:51234``,
    ``ipv6:[::1]:51234``); ``None`` for a Unix socket or anything else."""
    kind, _, rest = peer.partition(":")
    if kind == "ipv4":
        return rest.rpartition(":")[0] or None
    if kind == "ipv6":
        return rest.rpartition(":")[0].strip("[]") or None
    return None
