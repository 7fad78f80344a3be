"""A database that cannot be reached is ``Unavailable`` (503 / UNAVAILABLE), never a crash."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from common.db import Database, transaction
from common.errors import Unavailable


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def unreachable() -> Iterator[Database]:
    database = Database(f"postgresql://nobody@127.0.0.1:{_closed_port()}/nothing")
    yield database
    database.dispose()


def test_reads_outside_a_transaction(unreachable: Database) -> None:
    with pytest.raises(Unavailable, match="unavailable"):
        unreachable.session.execute(text("SELECT 1"))
    assert not unreachable.ping()


def test_work_inside_a_transaction(unreachable: Database) -> None:
    with pytest.raises(Unavailable), transaction(unreachable.session) as session:
        session.execute(text("SELECT 1"))
