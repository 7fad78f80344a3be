"""The REST features this service serves, each a module with a ``blueprint``.

A service split off from this one (``invoke split``) lists its own here; the app factory
does not change.
"""

from __future__ import annotations

from app.api.rest import auth, health, notes, openapi, users

__all__ = ["FEATURES"]

FEATURES = (users, auth, notes, health, openapi)
