"""The REST adapter: Flask over the service layer.

``create_app(settings)`` builds the WSGI app; ``python -m app.api.rest`` serves it with
uvicorn, configured from the environment. Importing this package builds nothing.
"""

from __future__ import annotations

from app.api.rest.app import create_app

__all__ = ["create_app"]
