"""The Flask app factory: one runtime, one blueprint per feature (:mod:`~app.api.rest.features`)
and the OpenAPI document, one problem format, the security headers on every answer, CORS where
configured."""

from __future__ import annotations

from flask import Flask, Response
from flask_cors import CORS

from app.api.rest import openapi
from app.api.rest.context import RUNTIME_KEY
from app.api.rest.errors import SECURITY_HEADERS, register_error_handlers
from app.api.rest.features import FEATURES
from app.api.rest.middleware import REQUEST_ID_HEADER, RequestLogMiddleware
from app.bootstrap import Runtime, bootstrap
from app.config import Settings

__all__ = ["create_app"]

#: Sent when deployed (staging, production), where the API is reached over HTTPS only.
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Flask:
    """The WSGI app over :func:`app.bootstrap.bootstrap` ``(settings)``.

    Without ``settings`` they are read from the environment. A ``runtime`` built by the
    caller is used as it is instead (a test that runs two services in one process gives each
    its own).
    """
    runtime = runtime or bootstrap(settings)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = runtime.settings.rest_max_body_bytes
    app.extensions[RUNTIME_KEY] = runtime
    register_error_handlers(app)
    for feature in FEATURES:
        app.register_blueprint(feature.blueprint)
    app.register_blueprint(openapi.blueprint)
    origins = [o.strip() for o in runtime.settings.cors_allowed_origins.split(",") if o.strip()]
    if origins:
        CORS(
            app,
            origins=origins,
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER, "Location", "Retry-After"],
            max_age=600,
        )
    headers = dict(SECURITY_HEADERS)
    if runtime.settings.app_env.is_deployed:
        headers.update([HSTS])

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        # Every answer gets here, error handlers' included; only an unhandled exception
        # would not, and the handler for Exception leaves none unhandled.
        response.headers.update(headers)
        return response

    @app.teardown_appcontext
    def end_unit_of_work(error: BaseException | None) -> None:
        # Runs after every request, failed or not (after_request would skip failures).
        runtime.lifecycle.teardown()

    app.wsgi_app = RequestLogMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app
