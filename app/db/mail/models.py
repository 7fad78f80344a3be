"""The ``mail_outbox`` table: every message the local ``outbox`` mail backend delivered.

A mailbox to read in development and tests (``MAIL_BACKEND=outbox``), not a relay queue:
nothing sends these rows on.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime

__all__ = ["MailOutboxRow"]


class MailOutboxRow(Base):
    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_recipient_created_at", "recipient", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    sender: Mapped[str] = mapped_column(String(320))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
