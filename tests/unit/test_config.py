"""Settings: read from the environment, bad values named, production strict about secrets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.config import Settings, load
from common.config import ConfigurationError, Environment

STRONG_SECRET = "s" * 16 + "T" * 16 + "0" * 8


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No app variables from the outer environment, and a cwd without a .env file."""
    for name in ("APP_ENV", "DATABASE_URL", "SECRET_KEY", "LOG_JSON", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_missing_database_url_names_the_variable(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        load()


def test_bad_value_names_the_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABASE_URL", "postgresql://db/app")
    clean_env.setenv("APP_ENV", "prod")
    clean_env.setenv("PASSWORD_TIME_COST", "zero")
    with pytest.raises(ConfigurationError) as caught:
        load()
    assert "APP_ENV" in str(caught.value)
    assert "PASSWORD_TIME_COST" in str(caught.value)


def test_reads_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABASE_URL", "postgresql://db/app")
    clean_env.setenv("APP_ENV", "staging")
    clean_env.setenv("TOKEN_TTL_SECONDS", "600")
    settings = load()
    assert settings.app_env is Environment.STAGING
    assert settings.token_ttl_seconds == 600
    assert settings.structured_logs  # JSON logs by default when deployed


def test_production_refuses_the_default_secret(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABASE_URL", "postgresql://db/app")
    clean_env.setenv("APP_ENV", "production")
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        load()
    clean_env.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        load()
    clean_env.setenv("SECRET_KEY", STRONG_SECRET)
    assert load().secret_key.get_secret_value() == STRONG_SECRET


def test_dotenv_is_read_locally_but_not_in_production(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://from-dotenv/app\nLOG_LEVEL=DEBUG\n")
    settings = load()
    assert settings.database_url == "postgresql://from-dotenv/app"
    assert settings.log_level == "DEBUG"
    assert not settings.structured_logs

    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("SECRET_KEY", STRONG_SECRET)
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        load()  # .env is ignored when deployed


def test_dotenv_configures_traces_too_unless_the_environment_does(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """OpenTelemetry's SDK reads only the process environment: .env's OTEL_* lines go there."""
    for name in ("OTEL_SERVICE_NAME", "OTEL_TRACES_SAMPLER"):
        clean_env.delenv(name, raising=False)
    clean_env.setenv("OTEL_TRACES_SAMPLER", "always_on")
    (tmp_path / ".env").write_text(
        "DATABASE_URL=postgresql://from-dotenv/app\n"
        "OTEL_SERVICE_NAME=from-dotenv\nOTEL_TRACES_SAMPLER=always_off\n"
    )
    load()
    assert os.environ["OTEL_SERVICE_NAME"] == "from-dotenv"
    assert os.environ["OTEL_TRACES_SAMPLER"] == "always_on"  # the environment's stays


def test_explicit_values_win_over_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DATABASE_URL", "postgresql://env/app")
    assert load(database_url="postgresql://given/app").database_url == "postgresql://given/app"


def test_settings_are_immutable() -> None:
    settings = Settings(database_url="postgresql://db/app", _env_file=None)
    with pytest.raises(ValueError, match="frozen"):
        settings.token_ttl_seconds = 5  # type: ignore[misc]


def test_an_unknown_trace_exporter_is_refused_naming_the_variable(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("DATABASE_URL", "postgresql://app@localhost/app")
    clean_env.setenv("OTEL_TRACES_EXPORTER", "otlp,jaeger")
    with pytest.raises(
        ConfigurationError, match=r"OTEL_TRACES_EXPORTER: unknown exporter 'jaeger'"
    ):
        load()
    clean_env.setenv("OTEL_TRACES_EXPORTER", "console, none")
    load()
