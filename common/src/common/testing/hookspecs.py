"""Hooks a project implements (in its ``conftest.py``) to drive the PostgreSQL harness."""

from __future__ import annotations

import pytest

__all__ = ["pytest_pg_harness_build_schema"]


@pytest.hookspec(firstresult=True)
def pytest_pg_harness_build_schema(url: str) -> object:
    """Build the schema in the (empty) template database at ``url``, e.g. run migrations.

    Called once per run, in the controller process, in a thread of its own while the workers
    start and collect the tests; no test runs before it returns. Leave no connection open:
    the database is then used as a ``CREATE DATABASE … TEMPLATE``.
    """
