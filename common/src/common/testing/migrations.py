"""Build a schema by running a project's Alembic migrations (never ``create_all``)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["alembic_upgrade"]


def alembic_upgrade(url: str, config_file: str | Path, revision: str = "head") -> None:
    """Run ``alembic upgrade revision`` against ``url`` with the project's ``alembic.ini``.

    The project's ``env.py`` must use ``config.attributes["url"]`` when it is set, and should
    leave logging alone when ``config.attributes["configure_logger"]`` is false.
    """
    from alembic import command
    from alembic.config import Config

    config = Config(str(config_file))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, revision)
