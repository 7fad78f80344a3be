"""auth's tables: bearer tokens (stored only as their SHA-256) and the log-in throttle."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime

__all__ = ["LoginThrottleRow", "TokenRow"]


class TokenRow(Base):
    __tablename__ = "auth_tokens"
    __table_args__ = (Index(None, "expires_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # users and auth deploy together (one service), so a foreign key is fine here; notes,
    # which may move into a service of its own, refers to users by id only.
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class LoginThrottleRow(Base):
    """Failed log-ins counted per key (an account or a client address) in a fixed window.

    The key is a digest (``account:…`` or ``address:…`` hashed), so the table holds neither
    email addresses nor IP addresses. Every process and replica counts in the same rows.
    """

    __tablename__ = "auth_login_throttle"
    __table_args__ = (Index(None, "window_started_at"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
