"""What every view needs from the request: the runtime, its services and the bearer token.

Who the token's caller is, each feature asks its own service (users and auth through the
auth service, notes through its port to users), so this module names no feature.
"""

from __future__ import annotations

from typing import cast

from flask import current_app, g, request

from app.bootstrap import Runtime, Services

__all__ = ["bearer_token", "runtime", "services"]

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
