"""The harness's connections: the default plain one, and the opt-in pipelined one
(``pg_harness_pipeline = true``), whose savepoint commands go with the next statement with the
same effects.

Through real connections to the worker's database, each test in a test transaction
(``pg_test_transaction``), on a table of the test's own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DataError, DBAPIError

from common.testing.connection import (
    HarnessConnection,
    connect_engine,
    harness_connection,
    is_harness_connection,
)
from common.testing.plugin import pg_test_transaction
from tests.integration.harness_projects import MARKER_SCHEMA


@pytest.fixture(scope="module")
def pipelined_connection(pg_database_url: str) -> Iterator[Connection]:
    """A connection as ``pg_connection`` is with ``pg_harness_pipeline = true``."""
    engine = connect_engine(pg_database_url)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


@pytest.fixture
def pipelined(pipelined_connection: Connection) -> Iterator[Connection]:
    with pg_test_transaction(pipelined_connection) as connection:
        yield connection


@pytest.fixture(params=["plain", "pipelined"])
def either(
    request: pytest.FixtureRequest, pg_transaction: Connection, pipelined_connection: Connection
) -> Iterator[Connection]:
    """The default connection (``pg_transaction``), then the opt-in one."""
    if request.param == "plain":
        yield pg_transaction
        return
    with pg_test_transaction(pipelined_connection) as connection:
        yield connection


@pytest.fixture
def marks(pipelined: Connection) -> Connection:
    """A pipelined connection with an empty table ``marks (value text)``, undone after the test."""
    pipelined.execute(text("CREATE TABLE marks (value text)"))
    return pipelined


@pytest.fixture
def either_marks(either: Connection) -> Connection:
    either.execute(text("CREATE TABLE marks (value text)"))
    return either


def test_pg_connection_is_plain_unless_the_pipeline_is_asked_for(
    request: pytest.FixtureRequest, pg_connection: Connection
) -> None:
    asked = bool(request.config.getini("pg_harness_pipeline"))  # false unless -o says so
    assert is_harness_connection(pg_connection) is asked


def insert(connection: Connection, value: str) -> None:
    connection.execute(text("INSERT INTO marks VALUES (:value)"), {"value": value})


def values(connection: Connection) -> list[str]:
    return list(connection.execute(text("SELECT value FROM marks ORDER BY value")).scalars())


def driver_of(connection: Connection) -> HarnessConnection[object]:
    return harness_connection(connection)


def test_a_savepoint_waits_for_the_next_statement_and_goes_before_it(marks: Connection) -> None:
    driver = driver_of(marks)
    nested = marks.begin_nested()
    assert driver.queued[-1].startswith(b'SAVEPOINT "sa_savepoint_')
    insert(marks, "a")  # sent with the savepoint, in one pipeline
    assert driver.queued == []
    nested.rollback()  # so the savepoint was there before the insert
    assert values(marks) == []


def test_a_savepoint_released_before_anything_ran_in_it_is_never_sent(marks: Connection) -> None:
    driver = driver_of(marks)
    before = list(driver.queued)
    marks.begin_nested().commit()
    with marks.begin_nested():
        pass
    assert driver.queued == before


def test_a_savepoint_rolled_back_to_stays_open_as_on_the_server(marks: Connection) -> None:
    driver = driver_of(marks)
    driver.savepoint("kept open")
    driver.rollback_to_savepoint("kept open")  # before anything ran in it
    insert(marks, "a")
    driver.rollback_to_savepoint("kept open")  # so this undoes "a"
    assert values(marks) == []


def test_a_savepoint_opened_before_anything_ran_in_the_one_around_it_is_that_one(
    marks: Connection,
) -> None:
    driver = driver_of(marks)
    driver.savepoint("outer")
    insert(marks, "before")
    driver.rollback_to_savepoint("outer")  # undoes "before"; nothing has run since
    nested = marks.begin_nested()  # as a test's first unit of work opens it
    assert driver.queued == [b'ROLLBACK TO SAVEPOINT "outer"']  # and no SAVEPOINT of its own
    insert(marks, "undone")
    nested.rollback()  # to "outer" instead, which undoes the same
    with marks.begin_nested():  # nothing has run since the rollback: "outer" again
        insert(marks, "kept")
    assert driver.queued == []  # its RELEASE had nothing to release on the server
    assert values(marks) == ["kept"]
    inner = marks.begin_nested()  # statements ran since: a savepoint of its own
    assert driver.queued[-1].startswith(b'SAVEPOINT "sa_savepoint_')
    insert(marks, "inner")
    inner.rollback()
    assert values(marks) == ["kept"]
    driver.rollback_to_savepoint("outer")
    assert values(marks) == []


def test_a_tests_first_unit_of_work_sends_no_savepoint(pipelined: Connection) -> None:
    driver = driver_of(pipelined)
    with pipelined.begin_nested():
        assert not any(command.startswith(b'SAVEPOINT "sa_') for command in driver.queued)
        pipelined.execute(text("SELECT 1"))
    assert driver.savepoints[-1].name == "pg_harness_test"


def test_commits_and_rollbacks_of_the_code_under_test_keep_their_meaning(
    either_marks: Connection,
) -> None:
    marks = either_marks
    with marks.begin_nested():  # committed
        insert(marks, "kept")
    nested = marks.begin_nested()
    insert(marks, "undone")
    nested.rollback()
    nested = marks.begin_nested()
    with pytest.raises(DataError):  # a read that fails after the commit above...
        marks.execute(text("SELECT 1 / 0"))
    nested.rollback()  # ...is undone alone: the savepoint went before it
    assert values(marks) == ["kept"]


def test_a_rollback_drops_what_was_queued_inside_its_savepoint(marks: Connection) -> None:
    driver = driver_of(marks)
    driver.savepoint("outer")
    insert(marks, "a")
    driver.savepoint("inner")
    driver.release_savepoint("inner")  # nothing ran in it: unqueued
    driver.savepoint("inner")
    driver.rollback_to_savepoint("outer")
    assert driver.queued == [b'ROLLBACK TO SAVEPOINT "outer"']
    driver.release_savepoint("inner")  # gone with the rollback: nothing to send
    assert driver.queued == [b'ROLLBACK TO SAVEPOINT "outer"']
    assert values(marks) == []
    driver.release_savepoint("outer")
    driver.flush()
    assert driver.queued == []


def test_copy_runs_after_the_queued_savepoint(marks: Connection) -> None:
    driver = driver_of(marks)
    driver.savepoint("before copy")
    with driver.cursor() as cursor, cursor.copy("COPY marks (value) FROM STDIN") as copy:
        copy.write_row(("copied",))
    assert values(marks) == ["copied"]
    driver.rollback_to_savepoint("before copy")
    assert values(marks) == []


def test_commands_sent_without_waiting_run_before_the_next_statement(marks: Connection) -> None:
    driver = driver_of(marks)
    driver.savepoint("sent")
    insert(marks, "a")
    driver.rollback_to_savepoint("sent")
    driver.send()  # as at the end of a test
    assert driver.queued == []
    assert driver.unsettled
    assert values(marks) == []  # the rollback's result was read first
    assert not driver.unsettled


def test_an_error_in_commands_sent_without_waiting_is_raised_by_the_next_statement(
    marks: Connection,
) -> None:
    driver = driver_of(marks)
    driver.queued.append(b'RELEASE SAVEPOINT "never opened"')
    driver.send()
    with pytest.raises(DBAPIError) as raised:
        values(marks)
    assert isinstance(raised.value.orig, psycopg.errors.InvalidSavepointSpecification)
    assert "never opened" in str(raised.value.orig)


def test_a_test_transaction_inside_another_joins_it(either: Connection) -> None:
    either.execute(text("CREATE TABLE joined (n int)"))
    with pg_test_transaction(either) as inner:  # as a fixture of the project's does
        inner.execute(text("INSERT INTO joined VALUES (1)"))
    # Neither started nor ended the test: what ran before and inside it is still there.
    assert either.execute(text("SELECT count(*) FROM joined")).scalar() == 1


def test_savepoints_the_code_under_test_leaves_open_are_undone_with_the_test(
    pg_connection: Connection,
) -> None:
    with pg_test_transaction(pg_connection) as connection:
        connection.execute(text("CREATE TABLE left_open (n int)"))
        connection.begin_nested()
        connection.execute(text("INSERT INTO left_open VALUES (1)"))
        connection.begin_nested()  # never committed nor rolled back
    assert pg_connection.get_nested_transaction() is None
    missing = pg_connection.execute(text("SELECT to_regclass('left_open')")).scalar()
    assert missing is None


def prepared(connection: Connection, statement: str) -> list[str]:
    """The names the server prepared ``statement`` under (other tests leave theirs)."""
    query = text("SELECT name FROM pg_prepared_statements WHERE statement = :statement")
    return list(connection.execute(query, {"statement": statement}).scalars())


def test_statements_are_prepared_when_asked_and_stay_prepared_after_the_tests_rollback(
    marks: Connection,
) -> None:
    driver = driver_of(marks)
    for _ in range(8):  # past the driver's usual threshold of 5
        values(marks)
    # The table may be another one in the next test.
    assert prepared(marks, "SELECT value FROM marks ORDER BY value") == []
    with driver.cursor() as cursor:
        cursor.execute("SELECT %s::int", (1,), prepare=True)  # as common.db.fetch_one does
    [name] = prepared(marks, "SELECT $1::int")
    driver.savepoint("test")
    insert(marks, "a")
    driver.rollback_to_savepoint("test")
    driver.send()  # as the end of a test does
    with driver.cursor() as cursor:
        cursor.execute("SELECT %s::int", (2,), prepare=True)
        assert cursor.fetchone() == (2,)
    assert prepared(marks, "SELECT $1::int") == [name]  # the same one, not prepared again


def test_prepared_statements_outlive_a_rollback_sent_with_the_next_statement(
    marks: Connection,
) -> None:
    driver = driver_of(marks)

    def fetch(sql: str, value: object) -> object:
        with driver.cursor() as cursor:
            cursor.execute(sql, (value,), prepare=True)
            return cursor.fetchone()

    assert fetch("SELECT %s::int", 1) == (1,)
    name = f"unit of work {uuid.uuid4()}"  # a command the driver has not seen before
    driver.savepoint(name)
    insert(marks, "undone")
    driver.rollback_to_savepoint(name)  # queued...
    assert fetch("SELECT %s::int", 2) == (2,)  # ...and sent in one pipeline with this
    assert fetch("SELECT %s::text", "new") == ("new",)  # prepared after the rollback
    assert fetch("SELECT %s::text", "again") == ("again",)  # and still there
    assert len(prepared(marks, "SELECT $1::text")) == 1
    assert values(marks) == []


ISOLATION_TESTS = """
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from common.testing.connection import harness_connection, is_harness_connection


def test_1_writes_and_commits_in_a_savepoint(pg_transaction):
    with pg_transaction.begin_nested():
        pg_transaction.execute(text("INSERT INTO marker VALUES (1)"))
    assert pg_transaction.execute(text("SELECT count(*) FROM marker")).scalar() == 1


def test_2_holds_no_lock_of_it_and_sees_nothing_of_it(pg_transaction, pg_database_url):
    if is_harness_connection(pg_transaction):
        # Test 1's rollback was sent as it ended, and confirmed before this test's fixtures.
        assert not harness_connection(pg_transaction).unsettled
    other = create_engine(pg_database_url, poolclass=NullPool)
    try:
        with other.begin() as connection:  # fails at once if test 1's lock were still held
            connection.execute(text("LOCK TABLE marker IN ACCESS EXCLUSIVE MODE NOWAIT"))
    finally:
        other.dispose()
    assert pg_transaction.execute(text("SELECT count(*) FROM marker")).scalar() == 0


def test_3_reads_pg_connection_outside_any_test_savepoint(pg_connection):
    assert pg_connection.execute(text("SELECT count(*) FROM marker")).scalar() == 0


def test_4_still_isolated_after_that(pg_transaction, pg_database_url):
    pg_transaction.execute(text("INSERT INTO marker VALUES (4)"))
    assert pg_transaction.execute(text("SELECT count(*) FROM marker")).scalar() == 1
"""


@pytest.mark.parametrize("pipeline", ["false", "true"])
def test_each_test_undoes_its_writes_and_releases_its_locks_when_it_ends(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, pg_database_url: str, pipeline: str
) -> None:
    pytester.makeini(f"[pytest]\npg_harness = true\npg_harness_pipeline = {pipeline}\n")
    pytester.makeconftest(MARKER_SCHEMA)
    pytester.makepyfile(test_isolation=ISOLATION_TESTS)
    monkeypatch.setenv("TEST_DATABASE_URL", pg_database_url)
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:xdist")
    result.assert_outcomes(passed=4)
