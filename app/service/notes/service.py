"""Notes: create, read, list (newest first, optional text filter), update and delete.

Every operation is scoped to the caller: another user's note is reported exactly like a
missing one, so ids reveal nothing. What notes knows of users comes through its port,
:class:`~app.service.notes.users.UserDirectory`: who the caller of a token is, and whether a
user still exists. A deleted user's notes go in one of two ways: in the deletion's own
transaction when users runs in the same process (:meth:`NotesService.delete_all_for_owner`,
a listener), or when the users service says so later (:meth:`NotesService.user_deleted`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.db.notes.repository import NoteRecord, NoteRepository
from app.service.notes.users import UserDirectory
from app.service.pagination import Cursors, Page, check_limit
from app.service.validation import FieldErrors, parse_id, require_text, storable_text
from common.db import transaction
from common.errors import InvalidInput, NotFound, ServiceError

__all__ = ["Note", "NotesService", "UserStillExists"]

MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 20_000
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Note:
    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    body: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: NoteRecord) -> Note:
        return cls(row.id, row.owner_id, row.title, row.body, row.created_at, row.updated_at)


class UserStillExists(ServiceError):
    """Asked to forget a user's notes while the users service still knows the user."""

    code = "user-still-exists"


def _title(value: str) -> str:
    return require_text("title", value, max_length=MAX_TITLE_LENGTH)


def _body(value: str) -> str:
    return require_text("body", value, max_length=MAX_BODY_LENGTH, allow_empty=True)


class NotesService:
    def __init__(
        self,
        session: Session,
        *,
        users: UserDirectory,
        clock: Callable[[], dt.datetime],
        cursors: Cursors,
    ) -> None:
        self._session = session
        self._notes = NoteRepository(session)
        self._users = users
        self._clock = clock
        self._cursors = cursors

    def authenticate(self, token: str | None) -> uuid.UUID:
        """The id of the caller whose notes ``token`` opens (the owner the other methods take)."""
        return self._users.caller_id(token)

    def create(self, owner_id: uuid.UUID, *, title: str, body: str = "") -> Note:
        errors = FieldErrors()
        clean_title = errors.check(lambda: _title(title), default="")
        clean_body = errors.check(lambda: _body(body), default="")
        errors.raise_if_any("the note is invalid")
        with transaction(self._session):
            record = self._notes.add(
                owner_id, title=clean_title, body=clean_body, now=self._clock()
            )
            return Note.from_row(record)

    def get(self, owner_id: uuid.UUID, note_id: str | uuid.UUID) -> Note:
        record = self._notes.get(owner_id, parse_id(note_id, what="note"))
        if record is None:
            raise NotFound("note not found")
        return Note.from_row(record)

    def list(
        self,
        owner_id: uuid.UUID,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        query: str | None = None,
    ) -> Page[Note]:
        size = check_limit(limit)
        text = storable_text("q", query).strip() if query else None
        if text and len(text) > MAX_QUERY_LENGTH:
            raise InvalidInput.for_field("q", f"must be at most {MAX_QUERY_LENGTH} characters")
        before = self._cursors.decode(cursor)
        rows = self._notes.page(owner_id, before=before, limit=size + 1, text=text)
        return self._cursors.page([Note.from_row(row) for row in rows], size)

    def update(
        self,
        owner_id: uuid.UUID,
        note_id: str | uuid.UUID,
        *,
        title: str | None = None,
        body: str | None = None,
    ) -> Note:
        errors = FieldErrors()
        clean_title = errors.check(lambda: None if title is None else _title(title), default=None)
        clean_body = errors.check(lambda: None if body is None else _body(body), default=None)
        errors.raise_if_any("the note is invalid")
        changes = {
            name: value
            for name, value in (("title", clean_title), ("body", clean_body))
            if value is not None
        }
        with transaction(self._session):
            record = self._notes.update(
                owner_id, parse_id(note_id, what="note"), changes, self._clock()
            )
            if record is None:
                raise NotFound("note not found")
            return Note.from_row(record)

    def delete(self, owner_id: uuid.UUID, note_id: str | uuid.UUID) -> None:
        with transaction(self._session):
            if not self._notes.delete(owner_id, parse_id(note_id, what="note")):
                raise NotFound("note not found")

    def delete_all_for_owner(self, owner_id: uuid.UUID) -> None:
        """Listener for user deletion in the same process; runs inside the caller's transaction."""
        self._notes.delete_all_for_owner(owner_id)

    def user_deleted(self, user_id: str | uuid.UUID) -> int:
        """The users service deleted ``user_id``: delete their notes; how many there were.

        Idempotent, and safe to expose without a token: it first asks the users service,
        and while the user exists it deletes nothing and raises :class:`UserStillExists`.
        """
        owner_id = parse_id(user_id, what="user")
        if self._users.exists(owner_id):
            raise UserStillExists(f"user {owner_id} still exists; their notes are kept")
        with transaction(self._session):
            return self._notes.delete_all_for_owner(owner_id)
