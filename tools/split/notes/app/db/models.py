"""Every table of the service, gathered on one metadata for Alembic and the tests: notes only."""

from __future__ import annotations

from app.db.base import Base
from app.db.notes.models import NoteRow

__all__ = ["Base", "NoteRow", "metadata"]

metadata = Base.metadata
