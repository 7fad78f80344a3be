"""The Flask app factory: one runtime, one blueprint per feature (:mod:`~app.api.rest.features`)
and the OpenAPI document, one problem format, the security headers on every answer, CORS where
configured, and the request's telemetry: a server span when tracing is on (OpenTelemetry's
Flask instrumentation), its count and latency by route template and status when metrics are.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from flask_cors import CORS

from app.api.rest import openapi
from app.api.rest.context import RUNTIME_KEY
from app.api.rest.errors import SECURITY_HEADERS, register_error_handlers
from app.api.rest.features import FEATURES
from app.api.rest.middleware import REQUEST_ID_HEADER, TRACE_IDS_KEY, RequestLogMiddleware
from app.bootstrap import Runtime, bootstrap
from app.config import Settings
from common.telemetry import current_ids

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
    _observe(app, runtime)
    return app


def _observe(app: Flask, runtime: Runtime) -> None:
    """The request's span (when tracing is on) and its metrics (when they are)."""
    if runtime.tracing.enabled:
        from opentelemetry.instrumentation.flask import FlaskInstrumentor

        FlaskInstrumentor.instrument_app(  # type: ignore[no-untyped-call]
            app, tracer_provider=runtime.tracing.provider, excluded_urls="healthz,readyz"
        )

        @app.before_request
        def keep_trace_ids() -> None:
            # The access log is written once the response went out, after the span ended.
            request.environ[TRACE_IDS_KEY] = current_ids()

    metrics = runtime.metrics
    if metrics is None:
        return

    @app.before_request
    def start_clock() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def count(response: Response) -> Response:
        # The route's template keeps the label set small; a path no route matched is one.
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        metrics.http_requests.labels(route, request.method, str(response.status_code)).inc()
        metrics.http_duration.labels(route, request.method).observe(seconds)
        return response
