"""The Flask app factory: one runtime, the notes blueprint with health and OpenAPI, one problem format."""

from __future__ import annotations

from flask import Flask

from app.api.rest import health, notes, openapi
from app.api.rest.context import RUNTIME_KEY
from app.api.rest.errors import register_error_handlers
from app.api.rest.middleware import RequestLogMiddleware
from app.bootstrap import Runtime, bootstrap
from app.config import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Flask:
    """The WSGI app over :func:`app.bootstrap.bootstrap` ``(settings)``.

    Without ``settings`` they are read from the environment, so gunicorn can be pointed at
    ``app.api.rest:create_app()`` directly. A ``runtime`` built by the caller is used as it
    is instead.
    """
    runtime = runtime or bootstrap(settings)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = runtime.settings.rest_max_body_bytes
    app.extensions[RUNTIME_KEY] = runtime
    register_error_handlers(app)
    for feature in (notes, health, openapi):
        app.register_blueprint(feature.blueprint)

    @app.teardown_appcontext
    def end_unit_of_work(error: BaseException | None) -> None:
        # Runs after every request, failed or not (after_request would skip failures).
        runtime.lifecycle.teardown()

    app.wsgi_app = RequestLogMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app
