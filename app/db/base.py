"""The declarative base every model of this service derives from."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from common.db import UTCDateTime, make_metadata

__all__ = ["Base", "UTCDateTime"]


class Base(DeclarativeBase):
    metadata = make_metadata()
