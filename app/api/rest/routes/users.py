"""The operations of users and auth: sign-up, your account, tokens."""

from __future__ import annotations

from app.api.rest import schemas
from app.api.rest.routes.operation import Operation

__all__ = ["OPERATIONS"]

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "users.sign_up",
        "POST",
        "/v1/users",
        "Sign up",
        201,
        schemas.UserOut,
        body=schemas.SignUp,
        auth=False,
        errors=(409,),
        location=True,
        description="Emails are unique regardless of case. Log in afterwards for a token.",
    ),
    Operation("users.get_me", "GET", "/v1/users/me", "Your profile", 200, schemas.UserOut),
    Operation(
        "users.update_me",
        "PATCH",
        "/v1/users/me",
        "Change your profile",
        200,
        schemas.UserOut,
        body=schemas.ProfilePatch,
    ),
    Operation(
        "users.change_password",
        "PUT",
        "/v1/users/me/password",
        "Change your password",
        204,
        body=schemas.PasswordChange,
        description="Needs the current password. Revokes every token of the user, this one too.",
    ),
    Operation(
        "users.delete_me",
        "DELETE",
        "/v1/users/me",
        "Delete your account",
        204,
        description="Deletes the user, their notes and their tokens.",
    ),
    # auth
    Operation(
        "auth.log_in",
        "POST",
        "/v1/auth/tokens",
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
    ),
    Operation("auth.log_out", "DELETE", "/v1/auth/tokens/current", "Log out", 204),
)
