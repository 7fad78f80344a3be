"""The REST features the notes service serves, each a module with a ``blueprint`` of
:class:`~app.api.rest.operations.Routes`, and the name its OpenAPI document gives the API."""

from __future__ import annotations

from app.api.rest import health, notes

__all__ = ["API_DESCRIPTION", "API_TITLE", "FEATURES"]

API_TITLE = "backend-notes"
API_DESCRIPTION = "Notes; tokens come from the users service. Errors are RFC 9457 problem details."

FEATURES = (notes, health)
