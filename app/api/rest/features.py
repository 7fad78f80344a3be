"""The REST features this service serves, each a module with a ``blueprint`` of
:class:`~app.api.rest.operations.Routes`, and the name its OpenAPI document gives the API.

A service split off from this one (``invoke split``) lists its own here; the app factory
does not change.
"""

from __future__ import annotations

from app.api.rest import auth, health, notes, users

__all__ = ["API_DESCRIPTION", "API_TITLE", "FEATURES"]

API_TITLE = "backend-app"
API_DESCRIPTION = "Users, tokens and notes. Errors are RFC 9457 problem details."

FEATURES = (users, auth, notes, health)
