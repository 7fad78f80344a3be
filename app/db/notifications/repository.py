"""Claims on deliveries; the caller owns the session and the transaction."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.db.notifications.models import DeliveryRow

__all__ = ["DeliveryRepository"]


class DeliveryRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def claim(self, user_id: uuid.UUID, kind: str, now: dt.datetime) -> bool:
        """Claim the one delivery of ``kind`` to the user; ``False`` when it was claimed before."""
        result = self._session.execute(
            insert(DeliveryRow)
            .values(user_id=user_id, kind=kind, claimed_at=now)
            .on_conflict_do_nothing()
            .returning(DeliveryRow.user_id)
        )
        return result.first() is not None

    def release(self, user_id: uuid.UUID, kind: str) -> None:
        """Give a claim up, so that a later attempt may deliver."""
        self._session.execute(
            delete(DeliveryRow).where(DeliveryRow.user_id == user_id, DeliveryRow.kind == kind)
        )
