"""``/v1/auth/tokens``: log in for a bearer token, log out by revoking it; who a token's caller is."""

from __future__ import annotations

import uuid

from flask import Response, request

from app.api.rest import schemas
from app.api.rest.context import bearer_token, services
from app.api.rest.operations import Routes
from app.api.rest.payloads import json_response, no_content

__all__ = ["blueprint", "current_user_id"]


def current_user_id() -> uuid.UUID:
    """The caller's id; raises ``Unauthenticated`` for a missing, invalid, expired or revoked
    token."""
    return services().auth.resolve_user_id(bearer_token())


blueprint = Routes("auth", __name__, url_prefix="/v1/auth/tokens", authenticate=current_user_id)


@blueprint.operation(
    "POST",
    "",
    "Log in",
    201,
    schemas.Token,
    body=schemas.LogIn,
    auth=False,
    errors=(401, 429),
    description=(
        "The same 401 whether the email is unknown or the password wrong. Failed log-ins "
        "are counted per account and per client address: past the limit (10 per account, "
        "100 per address in 15 minutes by default) every attempt is a 429 with "
        "`Retry-After` until the window ends."
    ),
)
def log_in(body: schemas.LogIn) -> Response:
    # The peer's address, or the client's as trusted proxies forwarded it (REST_FORWARDED_ALLOW_IPS).
    issued = services().auth.login(
        email=body.email, password=body.password, client_address=request.remote_addr
    )
    # A credential: no cache may keep it (RFC 6749, section 5.1).
    return json_response(schemas.Token.of(issued), 201, headers={"Cache-Control": "no-store"})


@blueprint.operation("DELETE", "/current", "Log out", 204)
def log_out(caller: uuid.UUID) -> Response:
    services().auth.revoke(bearer_token() or "")
    return no_content()
