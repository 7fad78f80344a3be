"""How :class:`common.db.Database` uses its connections, with its fast path off and on.

These tests use a ``Database`` of their own on the worker's database (not the harness's
rolled-back transaction), since what they check is what the engine sends to the server.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
import uuid
from collections.abc import Iterator

import pytest
from psycopg import pq
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    bindparam,
    create_engine,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from app.bootstrap import Runtime
from common import db
from common.db import Database, UTCDateTime, execute_one, fetch_one, normalize_url, transaction
from common.errors import InvalidInput, Unavailable


@pytest.fixture(params=[False, True], ids=["plain", "fast-path"])
def database(request: pytest.FixtureRequest, pg_database_url: str) -> Iterator[Database]:
    """The engine as every service builds it, with the fast path off (the default), then on."""
    database = Database(pg_database_url, pool_size=1, fast_path=request.param)
    yield database
    database.dispose()


@pytest.fixture
def fast(pg_database_url: str) -> Iterator[Database]:
    database = Database(pg_database_url, pool_size=1, fast_path=True)
    yield database
    database.dispose()


@pytest.fixture
def admin(pg_database_url: str) -> Iterator[Engine]:
    """Connections of their own, in autocommit, outside the database under test."""
    engine = create_engine(
        normalize_url(pg_database_url), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    yield engine
    engine.dispose()


@pytest.fixture
def table(admin: Engine) -> Iterator[Table]:
    """A table of its own, committed, dropped after the test.

    Ask for it before ``database``, so that the database's connections are closed first
    (an open transaction of theirs would hold the table).
    """
    probe = Table(f"probe_{uuid.uuid4().hex[:12]}", MetaData(), Column("n", Integer))
    with admin.connect() as connection:
        probe.create(connection)
    yield probe
    with admin.connect() as connection:
        probe.drop(connection)


def _status(database: Database) -> pq.TransactionStatus:
    connection: Connection = database.session.connection()
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    return pq.TransactionStatus(dbapi_connection.info.transaction_status)


def _count(database: Database, table: Table) -> int:
    with database.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


_ONE = select(literal(1))
_BACKEND = select(func.pg_backend_pid())


def test_by_default_every_unit_of_work_runs_in_a_transaction(pg_database_url: str) -> None:
    database = Database(pg_database_url, pool_size=1)
    try:
        assert fetch_one(database.session, _ONE, {}) == (1,)
        assert _status(database) is pq.TransactionStatus.INTRANS  # SQLAlchemy's autobegin
    finally:
        database.dispose()


def test_with_the_fast_path_reads_open_no_transaction(fast: Database) -> None:
    assert fetch_one(fast.session, _ONE, {}) == (1,)
    assert _status(fast) is pq.TransactionStatus.IDLE


def test_with_the_fast_path_any_other_statement_opens_the_transaction_and_reads_join_it(
    fast: Database,
) -> None:
    fetch_one(fast.session, _ONE, {})
    fast.session.execute(text("SELECT 1"))
    assert _status(fast) is pq.TransactionStatus.INTRANS
    fetch_one(fast.session, _ONE, {})
    assert _status(fast) is pq.TransactionStatus.INTRANS
    fast.remove_session()
    # Back from the pool, the same connection starts outside a transaction again.
    fetch_one(fast.session, _ONE, {})
    assert _status(fast) is pq.TransactionStatus.IDLE


def test_a_write_after_reads_is_rolled_back_unless_committed(
    table: Table, database: Database
) -> None:
    fetch_one(database.session, _ONE, {})
    database.session.execute(insert(table).values(n=1))
    database.remove_session()
    assert _count(database, table) == 0


def _insert_then_fail(database: Database, table: Table) -> None:
    with transaction(database.session) as session:
        session.execute(insert(table).values(n=3))
        raise ZeroDivisionError


def test_work_in_a_transaction_is_committed_together_or_not_at_all(
    table: Table, database: Database
) -> None:
    with transaction(database.session) as session:
        fetch_one(session, _ONE, {})
        session.execute(insert(table).values(n=1))
        session.execute(insert(table).values(n=2))
    database.remove_session()
    with pytest.raises(ZeroDivisionError):
        _insert_then_fail(database, table)
    database.remove_session()
    assert _count(database, table) == 2


def test_autocommit_asked_for_is_kept(table: Table, database: Database) -> None:
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(insert(table).values(n=1))
        connection.rollback()
    assert _count(database, table) == 1


def _terminate(admin: Engine, pid: int) -> None:
    """End a backend as a server restart ends them all; return once its client can tell."""
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})


def _backend(database: Database) -> int:
    row = fetch_one(database.session, _BACKEND, {})
    assert row is not None
    return int(row[0])


def test_a_connection_the_server_hung_up_on_is_replaced_before_use(
    database: Database, admin: Engine
) -> None:
    pid = _backend(database)
    database.remove_session()
    _terminate(admin, pid)
    # The pool sees the hang-up on the socket and connects anew: no unit of work fails.
    assert _backend(database) != pid


def test_fetch_one_sees_the_unit_of_works_own_writes(table: Table, database: Database) -> None:
    count = select(func.count()).select_from(table).where(table.c.n >= bindparam("least"))
    assert fetch_one(database.session, count, {"least": 0}) == (0,)
    database.session.execute(insert(table).values(n=1))
    assert fetch_one(database.session, count, {"least": 1}) == (1,)
    assert fetch_one(database.session, select(table.c.n).where(table.c.n > 1), {}) is None
    database.remove_session()
    assert _count(database, table) == 0


def test_a_connection_lost_during_a_unit_of_work_is_unavailable_then_replaced(
    database: Database, admin: Engine
) -> None:
    _terminate(admin, _backend(database))  # while the session holds the connection
    with pytest.raises(Unavailable):
        fetch_one(database.session, _BACKEND, {})
    database.remove_session()
    _terminate(admin, _backend(database))
    with pytest.raises(Unavailable):  # the same through SQLAlchemy's own path
        database.session.execute(text("SELECT 1"))
    database.remove_session()
    assert _backend(database) > 0


def test_a_statement_past_the_timeout_is_cancelled_and_unavailable(pg_database_url: str) -> None:
    database = Database(pg_database_url, pool_size=1, timeout=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(Unavailable):
            database.session.execute(text("SELECT pg_sleep(30)"))
        assert time.monotonic() - started < 3
        database.remove_session()
        assert database.session.execute(text("SELECT 1")).scalar_one() == 1  # and then works
    finally:
        database.dispose()


def test_a_value_the_database_refuses_is_invalid_input_not_a_crash(database: Database) -> None:
    with pytest.raises(InvalidInput, match="cannot store"):
        database.session.execute(select(literal("a\x00b")))
    database.remove_session()
    with pytest.raises(InvalidInput, match="cannot store"):
        fetch_one(database.session, select(literal(1)).where(bindparam("x") == "a"), {"x": "a\x00"})


def _write_then_fail(database: Database, table: Table) -> None:
    with transaction(database.session) as session:
        execute_one(session, insert(table).values(n=bindparam("n")), {"n": 2})  # returns no row
        raise ZeroDivisionError


def test_execute_one_writes_in_the_unit_of_works_transaction(
    table: Table, database: Database
) -> None:
    add = insert(table).values(n=bindparam("n")).returning(table.c.n)
    with transaction(database.session) as session:
        assert execute_one(session, add, {"n": 1}) == (1,)
        assert _status(database) is pq.TransactionStatus.INTRANS
    database.remove_session()
    with pytest.raises(ZeroDivisionError):
        _write_then_fail(database, table)
    database.remove_session()
    assert _count(database, table) == 1


def test_with_the_fast_path_a_write_opens_the_transaction(table: Table, fast: Database) -> None:
    fetch_one(fast.session, _ONE, {})
    assert _status(fast) is pq.TransactionStatus.IDLE
    execute_one(fast.session, insert(table).values(n=bindparam("n")), {"n": 1})
    assert _status(fast) is pq.TransactionStatus.INTRANS
    fast.remove_session()
    assert _count(fast, table) == 0


@pytest.fixture
def stamped(admin: Engine) -> Iterator[Table]:
    """A committed table ``(n int primary key, at timestamptz)``, dropped after the test."""
    probe = Table(
        f"stamped_{uuid.uuid4().hex[:12]}",
        MetaData(),
        Column("n", Integer, primary_key=True),
        Column("at", UTCDateTime()),
    )
    with admin.connect() as connection:
        probe.create(connection)
    yield probe
    with admin.connect() as connection:
        probe.drop(connection)


def test_execute_one_raises_sqlalchemys_errors_and_refuses_naive_datetimes(
    stamped: Table, database: Database
) -> None:
    add = insert(stamped).values(n=bindparam("n"), at=bindparam("at"))
    aware = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    execute_one(database.session, add, {"n": 1, "at": aware})
    with pytest.raises(IntegrityError):
        execute_one(database.session, add, {"n": 1, "at": aware})
    database.remove_session()
    with pytest.raises(Exception, match="naive datetime given") as raised:
        execute_one(database.session, add, {"n": 2, "at": aware.replace(tzinfo=None)})
    assert isinstance(raised.value, ValueError) or isinstance(raised.value.__cause__, ValueError)


@pytest.mark.parametrize("fast_path", [False, True], ids=["plain", "fast-path"])
@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "unprepared"])
def test_prepared_statements_can_be_turned_off_for_a_pooler(
    pg_database_url: str, fast_path: bool, prepared: bool
) -> None:
    database = Database(
        pg_database_url, pool_size=1, fast_path=fast_path, prepared_statements=prepared
    )
    try:
        for _ in range(8):  # past psycopg's own threshold (5) for preparing a repeated statement
            fetch_one(database.session, _ONE, {})
        prepared_here = database.session.execute(
            text("SELECT count(*) FROM pg_prepared_statements")
        ).scalar_one()
        assert (prepared_here > 0) is prepared
    finally:
        database.dispose()


def test_the_fast_paths_compiled_statements_are_bounded(fast: Database) -> None:
    before = len(db._COMPILED)
    for n in range(db.COMPILED_CACHE_SIZE + 100):  # built anew each time, as one should not
        assert fetch_one(fast.session, select(literal(n)), {}) == (n,)
    assert len(db._COMPILED) == db.COMPILED_CACHE_SIZE >= before


def test_a_server_that_answers_nothing_costs_one_wait_then_fails_fast() -> None:
    """As a frozen server: the kernel accepts the connection, nothing ever answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        database = Database(f"postgresql://nobody@127.0.0.1:{port}/x", timeout=0.5)
        try:
            started = time.monotonic()
            with pytest.raises(Unavailable):
                database.session.execute(text("SELECT 1"))
            database.remove_session()
            assert time.monotonic() - started < 3  # libpq's shortest connect_timeout is 2 s
            assert database.watchdog.quiet
            started = time.monotonic()
            with pytest.raises(Unavailable):
                database.session.execute(text("SELECT 1"))
            database.remove_session()
            assert time.monotonic() - started < 0.5  # no second wait while it stays quiet
            assert not database.ping()
        finally:
            database.dispose()


def test_the_app_runs_on_the_path_the_suite_asked_for(
    request: pytest.FixtureRequest, runtime: Runtime
) -> None:
    """``--database-fast-path`` (a CI step) reaches the app's engine; without it, the default."""
    assert runtime.database.fast_path is bool(request.config.getoption("database_fast_path"))
