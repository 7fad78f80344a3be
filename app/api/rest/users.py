"""``/v1/users``: sign up, and your own profile, password and account."""

from __future__ import annotations

from flask import Blueprint, Response, url_for

from app.api.rest import schemas
from app.api.rest.auth import current_user, current_user_id
from app.api.rest.context import services
from app.api.rest.payloads import json_response, no_content, parse_body

__all__ = ["blueprint"]

blueprint = Blueprint("users", __name__, url_prefix="/v1/users")


@blueprint.post("")
def sign_up() -> Response:
    body = parse_body(schemas.SignUp)
    user = services().users.register(
        email=body.email, display_name=body.display_name, password=body.password
    )
    return json_response(
        schemas.UserOut.of(user), 201, headers={"Location": url_for("users.get_me")}
    )


@blueprint.get("/me")
def get_me() -> Response:
    return json_response(schemas.UserOut.of(current_user()))


@blueprint.patch("/me")
def update_me() -> Response:
    user_id = current_user_id()
    body = parse_body(schemas.ProfilePatch)
    users = services().users
    if "display_name" in body.sent():
        user = users.update_profile(user_id, display_name=body.display_name)
    else:
        user = users.get(user_id)
    return json_response(schemas.UserOut.of(user))


@blueprint.put("/me/password")
def change_password() -> Response:
    user_id = current_user_id()
    body = parse_body(schemas.PasswordChange)
    services().users.change_password(
        user_id, current_password=body.current_password, new_password=body.new_password
    )
    return no_content()


@blueprint.delete("/me")
def delete_me() -> Response:
    services().users.delete(current_user_id())
    return no_content()
