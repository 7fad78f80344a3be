"""The service's settings: the shared base plus what its features need."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from common.config import BaseServiceSettings, load_settings

__all__ = ["Settings", "load"]


class Settings(BaseServiceSettings):
    """Read from the environment (and ``.env`` when not deployed); see ``.env.example``."""

    secret_fields: ClassVar[tuple[str, ...]] = ("secret_key",)

    # auth: argon2id cost. The defaults follow RFC 9106's second recommendation; tests lower them.
    password_time_cost: int = Field(default=3, ge=1, le=20)
    password_memory_cost_kib: int = Field(default=64 * 1024, ge=8, le=4 * 1024 * 1024)
    password_parallelism: int = Field(default=4, ge=1, le=64)
    token_ttl_seconds: int = Field(default=24 * 3600, ge=60, le=90 * 24 * 3600)

    # REST server (python -m app.api.rest). Loopback by default; containers set 0.0.0.0.
    rest_host: str = Field(default="127.0.0.1", pattern=r"^[A-Za-z0-9.:\-\[\]]+$")
    rest_port: int = Field(default=8000, ge=0, le=65535)
    #: gunicorn worker processes (the name Heroku-style platforms already set).
    web_concurrency: int = Field(default=2, ge=1, le=64)
    #: threads per worker: 1 runs gunicorn's sync workers, more runs gthread workers.
    rest_threads: int = Field(default=1, ge=1, le=64)
    #: seconds a worker has to finish in-flight requests after SIGTERM.
    rest_graceful_timeout: int = Field(default=30, ge=1, le=600)
    #: seconds a request may run before gunicorn restarts the worker.
    rest_timeout: int = Field(default=30, ge=1, le=600)
    #: largest request body accepted (413 above it); fits a note at its maximum in any encoding.
    rest_max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)

    # gRPC server (python -m app.api.grpc). Loopback by default; containers set 0.0.0.0.
    grpc_host: str = Field(default="127.0.0.1", pattern=r"^[A-Za-z0-9.:\-\[\]]+$")
    #: 0 picks a free port (the server prints the one it got).
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    #: threads serving RPCs; more than the database pool allows would only wait for it.
    grpc_max_workers: int = Field(default=10, ge=1, le=256)
    #: seconds in-flight RPCs have to finish after SIGTERM before they are cancelled.
    grpc_grace_seconds: float = Field(default=30, ge=0, le=600)


def load(**overrides: object) -> Settings:
    """Settings from the environment; raises ``ConfigurationError`` naming each bad variable."""
    return load_settings(Settings, **overrides)
