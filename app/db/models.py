"""Every table of the service, gathered on one metadata for Alembic and the tests."""

from __future__ import annotations

from app.db.auth.models import LoginThrottleRow, TokenRow
from app.db.base import Base
from app.db.mail.models import MailOutboxRow
from app.db.notes.models import NoteRow
from app.db.notifications.models import DeliveryRow
from app.db.users.models import UserRow

__all__ = [
    "Base",
    "DeliveryRow",
    "LoginThrottleRow",
    "MailOutboxRow",
    "NoteRow",
    "TokenRow",
    "UserRow",
    "metadata",
]

metadata = Base.metadata
