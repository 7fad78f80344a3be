"""Test data made through the service layer, so it obeys the same rules as real data."""

from __future__ import annotations

import itertools

from app.bootstrap import Services
from app.service.notes.service import Note
from app.service.users.service import User

DEFAULT_PASSWORD = "correct horse 9 battery"

_sequence = itertools.count(1)


class Factories:
    def __init__(self, services: Services) -> None:
        self._services = services

    def user(
        self,
        *,
        email: str | None = None,
        display_name: str = "Test User",
        password: str = DEFAULT_PASSWORD,
    ) -> User:
        number = next(_sequence)
        return self._services.users.register(
            email=email or f"user{number}@example.com",
            display_name=display_name,
            password=password,
        )

    def note(self, owner: User, *, title: str | None = None, body: str = "some text") -> Note:
        number = next(_sequence)
        return self._services.notes.create(owner.id, title=title or f"Note {number}", body=body)

    def token(self, user: User, password: str = DEFAULT_PASSWORD) -> str:
        return self._services.auth.login(email=user.email, password=password).token
