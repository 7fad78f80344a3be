"""The job queue's schema: what the migrations build is what the installed procrastinate expects."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from procrastinate.schema import SchemaManager
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool

from app.bootstrap import Runtime
from app.commands import cli
from common.postgres import create_database, drop_database, with_database
from common.testing import alembic_upgrade
from tests.conftest import make_test_settings

ROOT = Path(__file__).resolve().parents[3]

#: procrastinate's objects in the catalog, each as comparable rows.
CATALOG = {
    "columns": """
        SELECT c.relname, c.relkind, a.attnum, a.attname,
               format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relname LIKE 'procrastinate%' AND c.relkind IN ('r', 'c')
          AND a.attnum > 0 AND NOT a.attisdropped
    """,
    "enums": """
        SELECT t.typname, e.enumsortorder, e.enumlabel
        FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
        WHERE t.typname LIKE 'procrastinate%'
    """,
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proname LIKE 'procrastinate%'
    """,
    "indexes": """
        SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'procrastinate%'
    """,
    "constraints": """
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid::regclass::text LIKE 'procrastinate%'
    """,
    "triggers": """
        SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger
        WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'procrastinate%'
    """,
}


def catalog(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        kind: sorted(tuple(row) for row in connection.execute(text(query)))
        for kind, query in CATALOG.items()
    }


@pytest.fixture
def empty_database(pg_database_url: str) -> Iterator[Engine]:
    name = f"{make_url(pg_database_url).database}_{uuid.uuid4().hex[:8]}"
    create_database(pg_database_url, name)
    engine = create_engine(with_database(pg_database_url, name), poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_database(pg_database_url, name)


def test_the_migrations_build_the_schema_of_the_installed_procrastinate(
    pg_connection: Connection, empty_database: Engine
) -> None:
    """Fails after an upgrade of procrastinate that changes its schema: then add a revision
    applying the package's migration files (SchemaManager.get_migrations_path()) since the
    version the database has (see the job queue revision's docstring)."""
    with empty_database.begin() as connection:
        connection.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
        expected = catalog(connection)
    assert expected["functions"], "nothing found: the catalog queries are wrong"
    assert catalog(pg_connection) == expected


def test_resetting_the_database_drops_the_job_queue_so_the_migrations_run_again(
    empty_database: Engine,
) -> None:
    url = empty_database.url.render_as_string(hide_password=False)
    alembic_upgrade(url, ROOT / "alembic.ini")
    with empty_database.begin() as connection:
        connection.execute(
            text("SELECT procrastinate_register_worker_v1()")  # some rows go too
        )
    runtime = Runtime(make_test_settings(url))
    try:
        assert cli._reset(runtime, confirmed=True) == 0
    finally:
        runtime.database.dispose()
    with empty_database.connect() as connection:
        assert catalog(connection) == {kind: [] for kind in CATALOG}
    alembic_upgrade(url, ROOT / "alembic.ini")  # as `invoke db.reset` does next
