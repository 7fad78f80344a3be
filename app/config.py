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


def load(**overrides: object) -> Settings:
    """Settings from the environment; raises ``ConfigurationError`` naming each bad variable."""
    return load_settings(Settings, **overrides)
