"""Alembic environment: the URL comes from the service's settings, or from the caller.

Callers that manage their own databases (the test harness, `invoke db.*`) pass the URL in
``config.attributes["url"]``; otherwise it is ``DATABASE_URL`` as the service reads it.

Several migration runs may start at once (every replica's start, two deploys, a Kubernetes Job
retried): each takes a transaction-level advisory lock first and runs every pending revision
in that one transaction, so one applies them and the others, once it committed, find nothing
left to do. A transaction's lock holds through PgBouncer in transaction mode, where a session's
would not.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from app import config as app_config
from app.db.models import metadata
from common.db import UTCDateTime, normalize_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


#: The advisory lock key of migration runs (any bigint of this project's own).
MIGRATION_LOCK = 4_915_776_000_001


def _url() -> str:
    url = config.attributes.get("url") or app_config.load().database_url
    return normalize_url(str(url))


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Leave procrastinate's tables (the job queue, created by its own revision) out of the
    comparison with the models: they are not in the metadata, and not ours to drift-check."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write shared column types as plain SQLAlchemy so revisions never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=metadata,
        literal_binds=True,
        compare_type=True,
        include_name=_include_name,
        render_item=_render_item,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # No prepared statements: a migration gains nothing by them, and a pooler in transaction
    # mode (PgBouncer before 1.21) cannot keep them.
    engine = create_engine(_url(), poolclass=NullPool, connect_args={"prepare_threshold": None})
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            # Alembic joins the transaction begun here: every revision commits with the lock.
            _run(connection, transaction_per_migration=False)
    finally:
        engine.dispose()


def _run(connection: Connection, *, transaction_per_migration: bool = True) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        include_name=_include_name,
        render_item=_render_item,
        transaction_per_migration=transaction_per_migration,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
