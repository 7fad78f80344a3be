"""The ``notification_deliveries`` table: one row per message sent (or being sent) to a user."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime

__all__ = ["DeliveryRow"]


class DeliveryRow(Base):
    __tablename__ = "notification_deliveries"

    # users may run elsewhere: the user by id only, no foreign key.
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    #: Which message, e.g. ``welcome``.
    kind: Mapped[str] = mapped_column(String(50), primary_key=True)
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
