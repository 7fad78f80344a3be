"""``/v1/auth/tokens``: log in for a bearer token, log out by revoking it; who a token's caller is."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, request

from app.api.rest import schemas
from app.api.rest.context import bearer_token, services
from app.api.rest.payloads import json_response, no_content, parse_body
from app.service.users.service import User

__all__ = ["blueprint", "current_user", "current_user_id"]

blueprint = Blueprint("auth", __name__, url_prefix="/v1/auth/tokens")


def current_user() -> User:
    """The caller; raises ``Unauthenticated`` for a missing, invalid, expired or revoked token."""
    return services().auth.resolve(bearer_token())


def current_user_id() -> uuid.UUID:
    """The caller's id, for views that need no more of the user (one query instead of two)."""
    return services().auth.resolve_user_id(bearer_token())


@blueprint.post("")
def log_in() -> Response:
    body = parse_body(schemas.LogIn)
    # The peer's address, or the client's as trusted proxies forwarded it (REST_FORWARDED_ALLOW_IPS).
    issued = services().auth.login(
        email=body.email, password=body.password, client_address=request.remote_addr
    )
    # A credential: no cache may keep it (RFC 6749, section 5.1).
    return json_response(schemas.Token.of(issued), 201, headers={"Cache-Control": "no-store"})


@blueprint.delete("/current")
def log_out() -> Response:
    current_user_id()  # the same 401 as everywhere else for a missing or dead token
    services().auth.revoke(bearer_token() or "")
    return no_content()
