"""The JSON of users and auth: sign-up, log-in, profile and password changes, users, tokens."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from app.api.rest.schemas.base import (
    EMAIL,
    NON_BLANK,
    TEXT,
    RequestBody,
    Response,
    described,
    patch_member,
)
from app.service.auth.service import IssuedToken
from app.service.users.passwords import DEFAULT_MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH
from app.service.users.service import MAX_DISPLAY_NAME_LENGTH, MAX_EMAIL_LENGTH, User

__all__ = ["LogIn", "PasswordChange", "ProfilePatch", "SignUp", "Token", "UserOut"]

_PASSWORD = (
    f"{DEFAULT_MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters (the minimum is "
    "PASSWORD_MIN_LENGTH), not one of the most common passwords, not containing the email."
)


_NEW_PASSWORD = {
    "minLength": DEFAULT_MIN_PASSWORD_LENGTH,
    "maxLength": MAX_PASSWORD_LENGTH,
    "pattern": TEXT,
}
_DISPLAY_NAME = f"1 to {MAX_DISPLAY_NAME_LENGTH} characters, trimmed."


class SignUp(RequestBody):
    email: str = described(
        f"A valid address, at most {MAX_EMAIL_LENGTH} characters; case-insensitive.",
        maxLength=MAX_EMAIL_LENGTH,
        pattern=EMAIL,
    )
    password: str = described(_PASSWORD, **_NEW_PASSWORD)
    display_name: str = described(
        _DISPLAY_NAME, maxLength=MAX_DISPLAY_NAME_LENGTH, pattern=NON_BLANK
    )


class LogIn(RequestBody):
    email: str = described("The address signed up with, in any case.", pattern=TEXT)
    password: str = described("The password.", pattern=TEXT)


class ProfilePatch(RequestBody):
    display_name: str = patch_member(
        _DISPLAY_NAME, maxLength=MAX_DISPLAY_NAME_LENGTH, pattern=NON_BLANK
    )


class PasswordChange(RequestBody):
    current_password: str = described("The password now.", pattern=TEXT)
    new_password: str = described(_PASSWORD, **_NEW_PASSWORD)


class UserOut(Response):
    id: uuid.UUID
    email: str
    display_name: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class Token(Response):
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: dt.datetime

    @classmethod
    def of(cls, issued: IssuedToken) -> Token:
        return cls(token=issued.token, expires_at=issued.expires_at)
