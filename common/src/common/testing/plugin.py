"""The pytest plugin: one PostgreSQL per run, a database per xdist worker, a transaction per test.

Enabled by ``pg_harness = true`` in the project's pytest configuration. The controller
process (the only process without xdist) finds a server (see :mod:`common.testing.sources`),
creates a template database and asks the project to build its schema there
(``pytest_pg_harness_build_schema``), then each worker clones its own database from the
template. Everything the run created is dropped at its end.

The schema is built in a thread while the workers start and collect the tests (or, without
xdist, while the tests are collected); the run loop waits for it before the first test, and
stops there if it failed.

Fixtures:

``pg_database_url``
    URL of this worker's database (session scope).
``pg_connection``
    One connection per worker, kept for the whole run (session scope), in one transaction
    that is never committed.
``pg_transaction``
    ``pg_connection`` inside a savepoint that is rolled back after the test; bind sessions
    to it with ``join_transaction_mode="create_savepoint"`` so the code under test may commit.

By default ``pg_connection`` is an ordinary SQLAlchemy connection (psycopg), and every test is
``SAVEPOINT`` ... ``ROLLBACK TO SAVEPOINT`` on it, each command a round trip of its own. The
opt-in ``pg_harness_pipeline = true`` makes it a :mod:`common.testing.connection` connection
instead, which sends the savepoint commands in one pipeline with the next statement and does
not wait for the rollback that ends a test; ``invoke bench.tests`` measures both.
``pg_test_transaction(pg_connection)``
    Not a fixture: the context manager ``pg_transaction`` runs, for a project's fixture that
    would otherwise ask for ``pg_transaction``.
``pg_database_factory``
    ``pg_database_factory("users")``: the URL of another database of this worker, cloned
    from the same template, for tests that run more than one service, each with a database
    of its own (session scope; dropped at the end of the run).
"""

from __future__ import annotations

import contextlib
import json
import threading
import types
import uuid
import weakref
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine
from sqlalchemy.pool import StaticPool

from common.db import normalize_url
from common.postgres import Server, create_database, drop_database, list_databases, with_database
from common.testing import hookspecs
from common.testing.connection import (
    HarnessConnection,
    connect_engine,
    harness_connection,
    is_harness_connection,
)
from common.testing.sources import HarnessError, acquire_server

__all__ = ["pg_test_transaction", "pg_transaction"]

_INFO = "pg_harness"
_FIXTURES = "common-pg-harness-fixtures"
_PREFIX = "pytest"
#: The savepoint each test runs in, rolled back to at its end (which keeps it for the next).
_TEST_SAVEPOINT = "pg_harness_test"


class _Harness:
    """State of the harness in one process."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.server: Server | None = None
        self.admin_url = ""
        self.description = ""
        self.run_prefix = ""
        self.template = ""
        self.database = ""
        self._build: threading.Thread | None = None
        self._build_error: BaseException | None = None

    @property
    def is_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    # -- controller -----------------------------------------------------------------------
    def start(self) -> None:
        self.server = acquire_server()
        self.admin_url = self.server.admin_url
        self.description = self.server.description
        self.run_prefix = f"{_PREFIX}_{uuid.uuid4().hex[:10]}_"
        self.template = self.run_prefix + "template"
        self._build = threading.Thread(target=self._build_schema, name="pg-harness-schema")
        self._build.start()

    def _build_schema(self) -> None:
        try:
            create_database(self.admin_url, self.template)
            self.config.hook.pytest_pg_harness_build_schema(
                url=with_database(self.admin_url, self.template)
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread, by wait_for_schema()
            self._build_error = exc

    def wait_for_schema(self) -> None:
        """Wait for the schema build started by :meth:`start`; raise what it raised."""
        if self._build is not None:
            self._build.join()
            self._build = None
        if self._build_error is not None:
            error, self._build_error = self._build_error, None
            raise error

    def export(self) -> dict[str, str]:
        return {
            "admin_url": self.admin_url,
            "template": self.template,
            "run_prefix": self.run_prefix,
            "description": self.description,
        }

    def stop(self) -> None:
        if self._build is not None:  # the run ended before its loop: let the build finish
            self._build.join()
        try:
            if self.admin_url:
                for name in list_databases(self.admin_url, self.run_prefix):
                    drop_database(self.admin_url, name)
        finally:
            if self.server is not None:
                self.server.stop()

    # -- worker (or a run without xdist) ----------------------------------------------------
    def adopt(self, info: dict[str, str]) -> None:
        self.admin_url = info["admin_url"]
        self.template = info["template"]
        self.run_prefix = info["run_prefix"]
        self.description = info["description"]

    @property
    def worker(self) -> str:
        return str(getattr(self.config, "workerinput", {}).get("workerid", "main"))

    def create_worker_database(self) -> str:
        self.database = f"{self.run_prefix}{self.worker}"
        create_database(self.admin_url, self.database, template=self.template)
        return with_database(self.admin_url, self.database)

    def create_extra_database(self, suffix: str) -> tuple[str, str]:
        """Another database of this worker from the template: its name and URL."""
        name = f"{self.run_prefix}{self.worker}_{suffix}"
        create_database(self.admin_url, name, template=self.template)
        return name, with_database(self.admin_url, name)

    def drop_worker_database(self) -> None:
        if self.database:
            drop_database(self.admin_url, self.database)
            self.database = ""


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getini("pg_harness"))


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "pg_harness",
        type="bool",
        default=False,
        help="provide a real PostgreSQL per test run (common.testing)",
    )
    parser.addini(
        "pg_harness_pipeline",
        type="bool",
        default=False,
        help="send the harness's savepoint commands with the next statement (opt-in)",
    )


def pytest_configure(config: pytest.Config) -> None:
    harness = _Harness(config) if _enabled(config) else None
    if harness is not None:
        config.stash[_KEY] = harness
    config.pluginmanager.register(_fixtures(harness), _FIXTURES)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    harness = session.config.stash.get(_KEY, None)
    if harness is None:
        return
    if harness.is_worker:
        harness.adopt(json.loads(session.config.workerinput[_INFO]))  # type: ignore[attr-defined]
        return
    try:
        harness.start()
    except HarnessError as exc:
        harness.stop()
        raise pytest.UsageError(f"common.testing: {exc}") from None
    except BaseException:
        harness.stop()
        raise


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    """Before the first test (in the controller, before xdist hands any out): the schema."""
    harness = session.config.stash.get(_KEY, None)
    if harness is not None and not harness.is_worker:
        harness.wait_for_schema()
    return (yield)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: hand the controller's server and template to each worker."""
    harness = node.config.stash.get(_KEY, None)
    if harness is not None:
        node.workerinput[_INFO] = json.dumps(harness.export())


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    harness = session.config.stash.get(_KEY, None)
    if harness is None:
        return
    if harness.is_worker:
        harness.drop_worker_database()
    else:
        harness.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    harness = config.stash.get(_KEY, None)
    if harness is None or not harness.description:
        return None
    return f"postgres: {harness.description}"


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    harness = config.stash.get(_KEY, None)
    if harness is not None and harness.description:
        terminalreporter.write_line(f"postgres: {harness.description}")


def _fixtures(harness: _Harness | None) -> types.ModuleType:
    """The fixtures that need the run's harness, as a plugin of their own for the run.

    They reach the harness through this closure rather than by asking for ``request``: a
    fixture that asks for it, even one of session scope, costs every test that depends on
    it pytest's own work of making a ``request`` fixture again.
    """

    def enabled() -> _Harness:
        if harness is None:
            raise pytest.UsageError("set `pg_harness = true` in the pytest configuration")
        return harness

    @pytest.fixture(scope="session")
    def pg_database_url() -> Iterator[str]:
        """The URL of this worker's database, cloned from the migrated template."""
        run = enabled()
        url = run.create_worker_database()
        yield url
        run.drop_worker_database()

    @pytest.fixture(scope="session")
    def pg_database_factory() -> Iterator[Callable[[str], str]]:
        """``make(suffix)``: the URL of another database of this worker, from the template."""
        run = enabled()
        made: list[str] = []

        def make(suffix: str) -> str:
            name, url = run.create_extra_database(suffix)
            made.append(name)
            return url

        yield make
        for name in made:
            drop_database(run.admin_url, name)

    @pytest.fixture(scope="session")
    def pg_connection(pg_database_url: str) -> Iterator[Connection]:
        """This worker's connection for the whole run (see the module docstring)."""
        if enabled().config.getini("pg_harness_pipeline"):
            engine = connect_engine(pg_database_url)
        else:
            engine = create_engine(normalize_url(pg_database_url), poolclass=StaticPool)
        connection = engine.connect()
        try:
            yield connection
        finally:
            connection.close()
            engine.dispose()

    plugin = types.ModuleType(_FIXTURES, _fixtures.__doc__)
    plugin.pg_database_url = pg_database_url  # type: ignore[attr-defined]
    plugin.pg_database_factory = pg_database_factory  # type: ignore[attr-defined]
    plugin.pg_connection = pg_connection  # type: ignore[attr-defined]
    return plugin


@pytest.fixture
def pg_transaction(pg_connection: Connection) -> Iterator[Connection]:
    with pg_test_transaction(pg_connection) as connection:
        yield connection


#: The harness connections inside a test's transaction now.
_in_test: weakref.WeakSet[HarnessConnection[Any]] = weakref.WeakSet()
#: The harness connections whose end-of-test rollback was sent and not yet confirmed.
_rolling_back: weakref.WeakSet[HarnessConnection[Any]] = weakref.WeakSet()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a test's fixtures: the rollback that ended the last test has run on the server.

    By now it has: reading its result costs no wait, and no fixture of this test can find
    a lock of the last one.
    """
    while _rolling_back:
        _rolling_back.pop().settle()


@contextlib.contextmanager
def pg_test_transaction(connection: Connection) -> Iterator[Connection]:
    """``pg_transaction`` for a fixture of the project's own that takes ``pg_connection``.

    One fixture instead of two costs a test less of pytest's own work. Inside another test
    transaction on the same connection (a test that also asks for ``pg_transaction``) it
    joins that one, which ends last.
    """
    if not is_harness_connection(connection):
        with _plain_test_transaction(connection):
            yield connection
        return
    driver = harness_connection(connection)
    if driver in _in_test:
        yield connection
        return
    _start_test(connection, driver)
    _in_test.add(driver)
    try:
        yield connection
    finally:
        _in_test.discard(driver)
        _end_test(connection, driver)


@contextlib.contextmanager
def _plain_test_transaction(connection: Connection) -> Iterator[None]:
    """The default: the worker's transaction, and a savepoint per test rolled back after it."""
    if connection.info.get(_TEST_SAVEPOINT):
        yield
        return
    if not connection.in_transaction():
        connection.begin()
    test = connection.begin_nested()
    connection.info[_TEST_SAVEPOINT] = True
    try:
        yield
    finally:
        del connection.info[_TEST_SAVEPOINT]
        while (nested := connection.get_nested_transaction()) is not None:  # the test's, and
            nested.rollback()  # any the code under test left open inside it
            if nested is test:
                break


def _in_test_savepoint(driver: HarnessConnection[Any]) -> bool:
    return bool(driver.savepoints) and driver.savepoints[0].name == _TEST_SAVEPOINT


def _start_test(connection: Connection, driver: HarnessConnection[Any]) -> None:
    if _in_test_savepoint(driver):
        if driver.used:  # a test that used pg_connection directly ran statements since
            _undo_test(driver)
    else:
        if connection.in_transaction():  # begun by a test that used pg_connection directly
            connection.rollback()
        connection.begin()  # the worker's transaction; the driver sends BEGIN when needed
        driver.savepoint(_TEST_SAVEPOINT)
    driver.mark()


def _end_test(connection: Connection, driver: HarnessConnection[Any]) -> None:
    while (nested := connection.get_nested_transaction()) is not None:  # left open by the test
        nested.rollback()
    if _in_test_savepoint(driver):
        _undo_test(driver)
    driver.mark()


def _undo_test(driver: HarnessConnection[Any]) -> None:
    """Roll back to the test's savepoint, at once: nothing of the test may keep a lock.

    The rollback is sent, not waited for: the server runs it while pytest goes on.
    """
    driver.rollback_to_savepoint(_TEST_SAVEPOINT)
    if driver.used:  # else nothing ran since the savepoint was last rolled back to
        driver.send()
        _rolling_back.add(driver)


_KEY = pytest.StashKey[_Harness]()
