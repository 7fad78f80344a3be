"""``/v1/auth/tokens``: log in for a bearer token, log out by revoking it."""

from __future__ import annotations

from flask import Blueprint, Response

from app.api.rest import schemas
from app.api.rest.context import bearer_token, current_user_id, services
from app.api.rest.payloads import json_response, no_content, parse_body

__all__ = ["blueprint"]

blueprint = Blueprint("auth", __name__, url_prefix="/v1/auth/tokens")


@blueprint.post("")
def log_in() -> Response:
    body = parse_body(schemas.LogIn)
    issued = services().auth.login(email=body.email, password=body.password)
    # A credential: no cache may keep it (RFC 6749, section 5.1).
    return json_response(schemas.Token.of(issued), 201, headers={"Cache-Control": "no-store"})


@blueprint.delete("/current")
def log_out() -> Response:
    current_user_id()  # the same 401 as everywhere else for a missing or dead token
    services().auth.revoke(bearer_token() or "")
    return no_content()
