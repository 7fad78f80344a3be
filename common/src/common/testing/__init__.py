"""The PostgreSQL test harness: a pytest plugin and the pieces it is built from.

Enable it in a project's pytest configuration with ``pg_harness = true`` and implement the
``pytest_pg_harness_build_schema(url)`` hook (usually with :func:`alembic_upgrade`).
"""

from __future__ import annotations

from common.testing.migrations import alembic_upgrade
from common.testing.sources import HarnessError, acquire_server

__all__ = ["HarnessError", "acquire_server", "alembic_upgrade"]
