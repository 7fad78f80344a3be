"""Typed settings read from environment variables, validated once at startup.

Every service subclasses :class:`BaseServiceSettings` and builds its settings with
:func:`load_settings` inside its composition root, never at import time.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "BaseServiceSettings",
    "ConfigurationError",
    "Environment",
    "load_settings",
]

#: Secrets that are fine on a laptop and refused in production.
INSECURE_DEFAULT_SECRET = "insecure-local-secret-change-me"  # noqa: S105 - a placeholder production refuses


class Environment(enum.StrEnum):
    LOCAL = "local"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"

    @property
    def is_deployed(self) -> bool:
        return self in (Environment.STAGING, Environment.PRODUCTION)


class ConfigurationError(RuntimeError):
    """Settings are missing or invalid; the message names each offending variable."""


class BaseServiceSettings(BaseSettings):
    """What every service needs: its environment, database, secret and logging."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    #: Names of fields that hold secrets; production refuses them missing or left at a default.
    secret_fields: ClassVar[tuple[str, ...]] = ("secret_key",)

    app_env: Environment = Environment.LOCAL
    database_url: str = Field(
        description="postgresql://user:password@host:5432/dbname (psycopg 3 is used).",
    )
    database_pool_size: int = Field(default=5, ge=1, le=100)
    #: seconds the database may keep a unit of work waiting (connecting, a pooled connection,
    #: a statement, a commit) before it fails as unavailable (503 / UNAVAILABLE).
    database_timeout_seconds: float = Field(default=4, gt=0, le=3600)
    #: the opt-in fast path of common.db: single-row queries run by the driver, and no
    #: transaction for a unit of work that only reads (see common/README.md).
    database_fast_path: bool = False
    #: let the server prepare frequent statements; off behind a pooler that cannot keep them
    #: (PgBouncer in transaction mode before 1.21).
    database_prepared_statements: bool = True
    database_echo: bool = False
    #: the opt-in GC tuning of common.lifecycle.settle_for_serving: a server collects once
    #: after start-up and freezes what is left, so later full collections skip it.
    gc_freeze_after_startup: bool = False
    #: Prometheus metrics (common.metrics): REST serves /metrics, the other programs a port.
    metrics_enabled: bool = True
    #: where the gRPC server's and the worker's metrics ports listen (containers: 0.0.0.0).
    metrics_host: str = Field(default="127.0.0.1", pattern=r"^[A-Za-z0-9.:\-\[\]]+$")
    secret_key: SecretStr = SecretStr(INSECURE_DEFAULT_SECRET)
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    log_json: bool | None = Field(
        default=None, description="JSON log lines; defaults to on in staging and production."
    )

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> Self:
        if self.app_env is not Environment.PRODUCTION:
            return self
        weak = []
        for name in self.secret_fields:
            value = getattr(self, name)
            raw = value.get_secret_value() if isinstance(value, SecretStr) else value
            if not raw or raw == INSECURE_DEFAULT_SECRET or len(str(raw)) < 32:
                weak.append(name.upper())
        if weak:
            raise ValueError(
                "production needs real secrets (at least 32 characters, not the default): "
                + ", ".join(weak)
            )
        return self

    @property
    def structured_logs(self) -> bool:
        return self.log_json if self.log_json is not None else self.app_env.is_deployed


SettingsT = TypeVar("SettingsT", bound=BaseServiceSettings)


def load_settings(cls: type[SettingsT], /, **overrides: Any) -> SettingsT:
    """Build settings from the environment (and ``.env``), naming every bad variable on error.

    ``.env`` is read only outside staging and production, where configuration comes from
    the real environment alone.
    """
    requested = overrides.get("app_env", os.environ.get("APP_ENV", Environment.LOCAL))
    try:
        deployed = Environment(str(requested).lower()).is_deployed
    except ValueError:
        deployed = False  # validation below reports the bad value, naming APP_ENV
    env_file = None if deployed else ".env"
    if env_file is not None:
        _export_otel_variables(Path(env_file))
    try:
        settings = cls(_env_file=env_file, **overrides)
    except ValidationError as exc:
        raise ConfigurationError(_describe(cls, exc)) from exc
    # OpenTelemetry's variables are read by the SDK, at start-up: checked here with the rest.
    from common.telemetry import requested_exporters

    try:
        requested_exporters(os.environ)
    except ValueError as exc:
        raise ConfigurationError(f"invalid configuration:\n  {exc}") from exc
    return settings


def _export_otel_variables(env_file: Path) -> None:
    """Put ``env_file``'s ``OTEL_*`` lines in the environment, where the variable is unset.

    OpenTelemetry's SDK reads its configuration from the process environment only; so that
    ``.env`` configures traces as it configures the rest, its ``OTEL_*`` lines go there.
    """
    if not env_file.is_file():
        return
    from dotenv import dotenv_values

    for name, value in dotenv_values(env_file).items():
        if name.startswith("OTEL_") and value is not None:
            os.environ.setdefault(name, value)


def _describe(cls: type[BaseSettings], exc: ValidationError) -> str:
    prefix = str(cls.model_config.get("env_prefix", ""))
    lines = []
    for error in exc.errors():
        location = [str(part) for part in error["loc"]]
        variable = (prefix + location[0]).upper() if location else "settings"
        lines.append(f"  {variable}: {error['msg']}")
    return "invalid configuration:\n" + "\n".join(lines)
