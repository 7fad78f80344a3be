"""In-process adapters: one feature's port served by another feature's service in this process.

These are the adapters ``app.bootstrap`` plugs in when the features run together (the
default). When a feature runs on its own, the composition root plugs in a client of the other
service from :mod:`app.remote` instead; the feature itself does not change.
"""

from __future__ import annotations

import uuid

from app.service.auth.service import AuthService
from app.service.users.service import UsersService

__all__ = ["LocalUserDirectory"]


class LocalUserDirectory:
    """Notes' :class:`~app.service.notes.users.UserDirectory` over the auth and users services."""

    def __init__(self, auth: AuthService, users: UsersService) -> None:
        self._auth = auth
        self._users = users

    def caller_id(self, token: str | None) -> uuid.UUID:
        return self._auth.resolve_user_id(token)

    def exists(self, user_id: uuid.UUID) -> bool:
        return self._users.exists(user_id)
