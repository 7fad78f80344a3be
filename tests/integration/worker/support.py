"""A procrastinate connector on the test's connection, so a real worker sees uncommitted rows.

The worker runs procrastinate's own SQL (fetching, finishing, retrying jobs) inside the
test's transaction, which is rolled back afterwards like every other test's. Tasks reach the
same transaction through the runtime's sessions, which the ``session`` fixture binds to it.
"""

from __future__ import annotations

import asyncio
from typing import Any, LiteralString

import psycopg
from procrastinate import exceptions
from procrastinate.connector import BaseAsyncConnector
from procrastinate.sync_psycopg_connector import wrap_exceptions
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from sqlalchemy import Connection

__all__ = ["TransactionConnector"]


class TransactionConnector(BaseAsyncConnector):
    """Runs every query on one SQLAlchemy connection's psycopg connection, in its transaction.

    Queries block the event loop for their few milliseconds: a worker in a test runs one
    job at a time. There is no LISTEN (notifications wait for a commit that never comes):
    run workers with ``listen_notify=False``.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _run(self, query: LiteralString, arguments: dict[str, Any]) -> list[dict[str, Any]]:
        driver = self._connection.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        with wrap_exceptions(), driver.cursor(row_factory=dict_row) as cursor:
            cursor.execute(query, {key: _jsonb(value) for key, value in arguments.items()})
            return cursor.fetchall() if cursor.description else []

    # -- opening and closing: the connection belongs to the test --------------------------
    def get_sync_connector(self) -> TransactionConnector:
        return self

    def open(self, pool: Any = None) -> None:
        pass

    def close(self) -> None:
        pass

    async def open_async(self, pool: Any = None) -> None:
        pass

    async def close_async(self) -> None:
        pass

    # -- queries --------------------------------------------------------------------------
    def execute_query(self, query: LiteralString, **arguments: Any) -> None:
        self._run(query, arguments)

    def execute_query_one(self, query: LiteralString, **arguments: Any) -> dict[str, Any]:
        rows = self._run(query, arguments)
        if not rows:
            raise exceptions.NoResult
        return rows[0]

    def execute_query_all(self, query: LiteralString, **arguments: Any) -> list[dict[str, Any]]:
        return self._run(query, arguments)

    async def execute_query_async(self, query: LiteralString, **arguments: Any) -> None:
        self.execute_query(query, **arguments)

    async def execute_query_one_async(
        self, query: LiteralString, **arguments: Any
    ) -> dict[str, Any]:
        return self.execute_query_one(query, **arguments)

    async def execute_query_all_async(
        self, query: LiteralString, **arguments: Any
    ) -> list[dict[str, Any]]:
        return self.execute_query_all(query, **arguments)

    async def listen_notify(self, on_notification: Any, channels: Any) -> None:
        await asyncio.Event().wait()  # nothing is ever committed, so nothing is notified


def _jsonb(value: Any) -> Any:
    """Dicts become JSON, also inside the rows procrastinate passes (as its connector does)."""
    if isinstance(value, dict):
        return Jsonb(value)
    if isinstance(value, list):
        return [_jsonb(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_jsonb(item) for item in value)
    return value
