"""Fixtures for the notes service's tests, on top of the ``common.testing`` PostgreSQL harness.

The harness builds a template database with this project's own migrations (notes' table
only) and gives the run a database cloned from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from app.config import Settings
from common.testing import alembic_upgrade

ROOT = Path(__file__).resolve().parent.parent


def pytest_pg_harness_build_schema(url: str) -> bool:
    alembic_upgrade(url, ROOT / "alembic.ini")
    return True


def make_test_settings(database_url: str, **changes: Any) -> Settings:
    """Settings for tests: never read from the environment or ``.env``."""
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": database_url,
        "log_level": "WARNING",
    }
    values.update(changes)
    return _HermeticSettings(**values)


class _HermeticSettings(Settings):
    """Settings built from the given values only: the developer's environment cannot leak in."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)
