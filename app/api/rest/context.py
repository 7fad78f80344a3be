"""What a view needs from the request: the runtime, its services and the caller's identity."""

from __future__ import annotations

import uuid
from typing import cast

from flask import current_app, g, request

from app.bootstrap import Runtime, Services
from app.service.users.service import User

__all__ = ["bearer_token", "current_user", "current_user_id", "runtime", "services"]

RUNTIME_KEY = "runtime"


def runtime() -> Runtime:
    return cast(Runtime, current_app.extensions[RUNTIME_KEY])


def services() -> Services:
    """The services bound to this request's unit of work (built once per request)."""
    if "services" not in g:
        g.services = runtime().services()
    return cast(Services, g.services)


def bearer_token() -> str | None:
    """The token of ``Authorization: Bearer <token>``; ``None`` when absent or another scheme."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def current_user() -> User:
    """The caller; raises ``Unauthenticated`` for a missing, invalid, expired or revoked token."""
    return services().auth.resolve(bearer_token())


def current_user_id() -> uuid.UUID:
    """The caller's id, for views that need no more of the user (one query instead of two)."""
    return services().auth.resolve_user_id(bearer_token())
