"""Pieces of the throwaway pytest projects the harness's own tests run (with ``pytester``)."""

from __future__ import annotations

#: A conftest whose schema is one empty table, ``marker (id int)``.
MARKER_SCHEMA = """
from sqlalchemy import create_engine, text

def pytest_pg_harness_build_schema(url):
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE marker (id int)"))
    engine.dispose()
"""
