"""What the notes stories run on: notes as a service of its own, users elsewhere.

Notes runs here, in this process: its own runtime on its own database, configured with the
remote adapter (``USERS_SERVICE_ADDR``), behind its REST app (in process) and its gRPC server
(a real one, on an ephemeral port). It reaches users through a :class:`~tests.split.notes.switch.Switch`,
so a story can take users down. Where users runs is the :class:`UsersSide` the enclosing
``conftest.py`` provides: in the monolith's suite a users server started from the same code
base; in a project made by ``invoke split notes``, the service ``USERS_SERVICE_ADDR`` names.

:class:`SplitClient` is the parity suite's client interface over the two services: accounts
and tokens from users (over gRPC), notes from notes (over REST or gRPC).
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol

from tests.api.parity.clients import Client, Note, NotePage, Token, User

__all__ = ["MonotonicClock", "SplitClient", "UsersSide"]


class UsersSide(Protocol):
    """The users service the notes service under test relies on."""

    #: Where its gRPC API listens (``host:port``).
    target: str

    def connect_notes(self, target: str) -> None:
        """Where notes' gRPC API listens, for telling it about deleted users."""

    def deliver_user_deleted(self, user_id: str) -> None:
        """Tell notes now that ``user_id`` was deleted, as the users service's worker does."""


class SplitClient:
    """:class:`~tests.api.parity.clients.Client` with accounts from one API and notes from another."""

    def __init__(self, users: Client, notes: Client) -> None:
        self._users = users
        self._notes = notes
        self.transport = notes.transport

    def sign_up(self, *, email: str, password: str, display_name: str) -> User:
        return self._users.sign_up(email=email, password=password, display_name=display_name)

    def log_in(self, *, email: str, password: str) -> Token:
        return self._users.log_in(email=email, password=password)

    def log_out(self, token: str | None) -> None:
        self._users.log_out(token)

    def me(self, token: str | None) -> User:
        return self._users.me(token)

    def update_me(self, token: str | None, *, display_name: str | None = None) -> User:
        return self._users.update_me(token, display_name=display_name)

    def change_password(
        self, token: str | None, *, current_password: str, new_password: str
    ) -> None:
        self._users.change_password(
            token, current_password=current_password, new_password=new_password
        )

    def create_note(self, token: str | None, *, title: str, body: str = "") -> Note:
        return self._notes.create_note(token, title=title, body=body)

    def get_note(self, token: str | None, note_id: str) -> Note:
        return self._notes.get_note(token, note_id)

    def list_notes(
        self,
        token: str | None,
        *,
        query: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> NotePage:
        return self._notes.list_notes(token, query=query, limit=limit, cursor=cursor)

    def update_note(
        self, token: str | None, note_id: str, *, title: str | None = None, body: str | None = None
    ) -> Note:
        return self._notes.update_note(token, note_id, title=title, body=body)

    def delete_note(self, token: str | None, note_id: str) -> None:
        self._notes.delete_note(token, note_id)


class MonotonicClock:
    """The wall clock, a microsecond later than its last answer at least: notes created in
    one story are ordered as they were created (the monolith's tests use a fake clock)."""

    def __init__(self) -> None:
        self._last = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            now = max(dt.datetime.now(dt.UTC), self._last + dt.timedelta(microseconds=1))
            self._last = now
            return now
