"""``/v1/users``: sign up, and your own profile, password and account."""

from __future__ import annotations

import uuid

from flask import Response, url_for

from app.api.rest import schemas
from app.api.rest.auth import current_user_id
from app.api.rest.context import services
from app.api.rest.operations import Routes
from app.api.rest.payloads import json_response, no_content

__all__ = ["blueprint"]

blueprint = Routes("users", __name__, url_prefix="/v1/users", authenticate=current_user_id)


@blueprint.operation(
    "POST",
    "",
    "Sign up",
    201,
    schemas.UserOut,
    body=schemas.SignUp,
    auth=False,
    errors=(409,),
    location=True,
    description="Emails are unique regardless of case. Log in afterwards for a token.",
)
def sign_up(body: schemas.SignUp) -> Response:
    user = services().users.register(
        email=body.email, display_name=body.display_name, password=body.password
    )
    return json_response(
        schemas.UserOut.of(user), 201, headers={"Location": url_for("users.get_me")}
    )


@blueprint.operation("GET", "/me", "Your profile", 200, schemas.UserOut)
def get_me(caller: uuid.UUID) -> Response:
    return json_response(schemas.UserOut.of(services().users.get(caller)))


@blueprint.operation(
    "PATCH", "/me", "Change your profile", 200, schemas.UserOut, body=schemas.ProfilePatch
)
def update_me(caller: uuid.UUID, body: schemas.ProfilePatch) -> Response:
    users = services().users
    if "display_name" in body.sent():
        user = users.update_profile(caller, display_name=body.display_name)
    else:
        user = users.get(caller)
    return json_response(schemas.UserOut.of(user))


@blueprint.operation(
    "PUT",
    "/me/password",
    "Change your password",
    204,
    body=schemas.PasswordChange,
    description="Needs the current password. Revokes every token of the user, this one too.",
)
def change_password(caller: uuid.UUID, body: schemas.PasswordChange) -> Response:
    services().users.change_password(
        caller, current_password=body.current_password, new_password=body.new_password
    )
    return no_content()


@blueprint.operation(
    "DELETE",
    "/me",
    "Delete your account",
    204,
    description="Deletes the user, their notes and their tokens.",
)
def delete_me(caller: uuid.UUID) -> Response:
    services().users.delete(caller)
    return no_content()
