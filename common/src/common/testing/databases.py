"""Create, clone and drop databases on a server through a maintenance connection."""

from __future__ import annotations

import re

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

__all__ = ["create_database", "drop_database", "list_databases", "with_database"]

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead (password kept)."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"unsafe database name: {name!r}")
    return name


def create_database(admin_url: str, name: str, *, template: str | None = None) -> None:
    """``CREATE DATABASE name [TEMPLATE template]`` (templates must have no open connections)."""
    statement = f'CREATE DATABASE "{_checked(name)}"'
    if template:
        statement += f' TEMPLATE "{_checked(template)}"'
    _execute(admin_url, statement)


def drop_database(admin_url: str, name: str) -> None:
    """Drop ``name`` if it exists, disconnecting whoever is still connected."""
    _execute(admin_url, f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)')


def list_databases(admin_url: str, prefix: str) -> list[str]:
    engine = create_engine(admin_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                {"prefix": prefix},
            )
            return sorted(row[0] for row in rows)
    finally:
        engine.dispose()


def _execute(admin_url: str, statement: str) -> None:
    engine = create_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()
