"""The JSON of users and auth: sign-up, log-in, profile and password changes, users, tokens."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import Field

from app.api.rest.schemas.base import RequestBody, Response, patch_member
from app.service.auth.service import IssuedToken
from app.service.users.passwords import DEFAULT_MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH
from app.service.users.service import MAX_DISPLAY_NAME_LENGTH, MAX_EMAIL_LENGTH, User

__all__ = ["LogIn", "PasswordChange", "ProfilePatch", "SignUp", "Token", "UserOut"]

_PASSWORD = (
    f"{DEFAULT_MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters (the minimum is "
    "PASSWORD_MIN_LENGTH), not one of the most common passwords, not containing the email."
)


class SignUp(RequestBody):
    email: str = Field(
        description=f"A valid address, at most {MAX_EMAIL_LENGTH} characters; case-insensitive."
    )
    password: str = Field(description=_PASSWORD)
    display_name: str = Field(description=f"1 to {MAX_DISPLAY_NAME_LENGTH} characters, trimmed.")


class LogIn(RequestBody):
    email: str
    password: str


class ProfilePatch(RequestBody):
    display_name: str = patch_member(f"1 to {MAX_DISPLAY_NAME_LENGTH} characters, trimmed.")


class PasswordChange(RequestBody):
    current_password: str
    new_password: str = Field(description=_PASSWORD)


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
