"""The port through which notes learns about users, wherever the users service runs.

Notes needs two answers from users: who the caller of a bearer token is, and whether a user
still exists. ``app.bootstrap`` plugs in an adapter: in one process, the users and auth
services themselves (:mod:`app.service.inprocess`); with notes on its own, a gRPC client of
the users service (:mod:`app.remote.users`, chosen by ``USERS_SERVICE_ADDR``). Notes imports
neither: only this protocol.
"""

from __future__ import annotations

import uuid
from typing import Protocol

__all__ = ["UserDirectory"]


class UserDirectory(Protocol):
    def caller_id(self, token: str | None) -> uuid.UUID:
        """The id of the user ``token`` was issued to.

        Raises :class:`~common.errors.Unauthenticated` when the token is missing, unknown,
        expired or revoked, and :class:`~common.errors.Unavailable` when the users service
        cannot answer.
        """

    def exists(self, user_id: uuid.UUID) -> bool:
        """Whether the user exists; :class:`~common.errors.Unavailable` when no one can say."""
