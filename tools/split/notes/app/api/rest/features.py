"""The REST features the notes service serves, each a module with a ``blueprint``."""

from __future__ import annotations

from app.api.rest import health, notes, openapi

__all__ = ["FEATURES"]

FEATURES = (notes, health, openapi)
