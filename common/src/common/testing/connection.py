"""The opt-in connection tests run on (``pg_harness_pipeline = true``): savepoint commands
travel with the next statement.

A worker's tests share one connection and one transaction. Each test runs inside a savepoint
of it, rolled back at the test's end, and the code under test opens a savepoint for each unit
of work and releases it when it commits (``join_transaction_mode="create_savepoint"``). Sent
on their own, those commands would be half of a typical test's round trips, and on a local
server a round trip costs about as much as a small INSERT. So on this connection they wait
in a queue and go to the server in one pipeline with the next statement: the server runs the
same commands in the same order, and every statement sees the same data, as if each had been
sent at once. A savepoint released or rolled back before anything ran inside it is never sent,
and a rollback to a savepoint drops what was queued inside it. A savepoint opened when nothing
has run since the one around it was opened or rolled back to is not sent either: rolling back
to it undoes the same as rolling back to that one, so the server's savepoint stands for both.
That is the first unit of work of every test, whose savepoint follows the test's at once.

The rollback at the end of a test is sent without waiting for its result (:meth:`send`):
the server runs it at once, so the test keeps no lock, while pytest reports the test and
sets up the next one. Its result is read before anything else is done on the connection.

Statements are prepared only when asked to (``prepare=True``, as :func:`common.db.fetch_one`
and :func:`common.db.execute_one` ask for the statements every request runs), as in
production, where the server plans them once per connection. The driver would discard its
prepared statements after every rollback, because a statement could refer to a table the
rollback dropped, and prepare them again in an extra round trip each; the rollback that ends
a test goes around that (see :meth:`HarnessConnection.send`), so they outlive the tests.
Statements run often without asking are not prepared here: a test may create a table,
query it, and roll it back, and the next test create it again otherwise. A test that changes
the type of a column the app's prepared statements return would make them fail in the tests
after it ("cached plan must not change result type"): change the app's schema in a database
of the test's own (from ``pg_database_factory``, or made as the migration tests make theirs).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self, cast

import psycopg
from psycopg import errors, generators, pq
from psycopg.abc import Params, Query, QueryNoTemplate
from psycopg.copy import Copy, Writer
from psycopg.rows import Row
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import StaticPool

__all__ = [
    "HarnessConnection",
    "HarnessDialect",
    "connect_engine",
    "harness_connection",
    "is_harness_connection",
]

_DRIVER = "pg_harness"


@dataclass(eq=False)
class _Savepoint:
    name: str
    #: Where its SAVEPOINT command is in the queue, until the queue is sent.
    queued_at: int | None
    #: The savepoint the server has in its place, when it was opened with nothing run since
    #: that one was opened or rolled back to; None when the server has it under its name.
    same_as: _Savepoint | None = None

    @property
    def on_server(self) -> _Savepoint:
        return self.same_as or self


class HarnessConnection(psycopg.Connection[Row]):
    """A psycopg connection that queues savepoint commands (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cursor_factory = HarnessCursor
        self.server_cursor_factory = HarnessServerCursor
        #: The open savepoints, innermost last, as the server has them once the queue is sent.
        self.savepoints: list[_Savepoint] = []
        #: Commands not sent yet.
        self.queued: list[bytes] = []
        #: Whether a statement ran since the last :meth:`mark`.
        self.used = False
        #: Whether nothing ran since the innermost savepoint was opened or rolled back to.
        self.untouched = False
        #: Whether commands were sent whose results are not read yet (see :meth:`send`).
        self.unsettled = False

    # -- the three savepoint commands ------------------------------------------------------
    def savepoint(self, name: str) -> None:
        if self.untouched and self.savepoints:
            # Rolling back to it would undo exactly what rolling back to the innermost one
            # undoes, so the server needs no savepoint of its own.
            self.savepoints.append(_Savepoint(name, None, self.savepoints[-1].on_server))
            return
        self.savepoints.append(_Savepoint(name, len(self.queued)))
        self.queued.append(b"SAVEPOINT " + self._quote(name))
        self.untouched = True

    def release_savepoint(self, name: str) -> None:
        index = self._find(name)
        if index is None:
            return
        released = self.savepoints[index:]
        # The outermost of them the server has is the one to release (the others go with it).
        on_server = next((savepoint for savepoint in released if not savepoint.same_as), None)
        if on_server is not None:
            if on_server.queued_at is not None:  # never sent: nothing ran inside it
                del self.queued[on_server.queued_at :]
            else:
                self.queued.append(b"RELEASE SAVEPOINT " + self._quote(on_server.name))
            self.untouched = False  # statements may have run before it, in the one around it
        del self.savepoints[index:]

    def rollback_to_savepoint(self, name: str) -> None:
        index = self._find(name)
        if index is None:
            return  # gone already, with a savepoint around it
        target = self.savepoints[index].on_server
        if not (self.untouched and self.savepoints[-1].on_server is target):
            # Statements ran since it was opened (so they sent its SAVEPOINT), and everything
            # queued since concerns savepoints inside it, which the rollback undoes. Else
            # there is nothing to undo.
            self.queued = [b"ROLLBACK TO SAVEPOINT " + self._quote(target.name)]
        del self.savepoints[index + 1 :]  # the savepoint itself stays, as on the server
        self.untouched = True

    # -- sending ---------------------------------------------------------------------------
    def mark(self) -> None:
        """Start watching for statements again (see :attr:`used`)."""
        self.used = False

    def flush(self) -> None:
        """Send what is queued now, in one round trip."""
        self.settle()
        if self.queued:
            commands = b"; ".join(self._take_queued())
            with self.uncached(), psycopg.Cursor(self) as cursor:
                cursor.execute(commands)  # no parameters: one simple query, many commands

    def send(self) -> None:
        """Send what is queued now, and read its results later, in :meth:`settle`.

        Whatever is done next on this connection settles first, so the results are read,
        and an error raised, before anything else is sent. What is sent so does not go
        through the driver's statement cache, which a rollback among it would empty.
        """
        self.settle()
        if self.queued:
            self.pgconn.send_query(b"; ".join(self._take_queued()))
            self.unsettled = True
            self.wait(generators.send(self.pgconn))

    def settle(self) -> None:
        """Read the results of what :meth:`send` sent; raise the first error among them."""
        if not self.unsettled:
            return
        self.unsettled = False
        results = self.wait(generators.fetch_many(self.pgconn))  # one query: its results
        for result in results:
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise errors.error_from_result(result, encoding=self.info.encoding)

    @contextmanager
    def uncached(self) -> Iterator[None]:
        """Statements run in this block stay out of the driver's statement cache.

        For the savepoint commands: seeing a ``ROLLBACK`` among them, the driver would drop
        every prepared statement, and in a pipeline it would do so only after preparing the
        next one, which it would then have forgotten on the server but not here.
        """
        threshold = self.prepare_threshold
        self.prepare_threshold = None
        try:
            yield
        finally:
            self.prepare_threshold = threshold

    def _take_queued(self) -> list[bytes]:
        commands, self.queued = self.queued, []
        for savepoint in self.savepoints:
            savepoint.queued_at = None
        return commands

    def _find(self, name: str) -> int | None:
        for index in range(len(self.savepoints) - 1, -1, -1):
            if self.savepoints[index].name == name:
                return index
        return None

    @staticmethod
    def _quote(name: str) -> bytes:
        return b'"' + name.replace('"', '""').encode() + b'"'

    # -- the transaction ending forgets every savepoint ------------------------------------
    def commit(self) -> None:
        self.settle()
        self._forget()
        super().commit()

    def rollback(self) -> None:
        self.settle()
        self._forget()
        super().rollback()

    def _forget(self) -> None:
        self.savepoints.clear()
        self.queued.clear()
        self.untouched = False


class HarnessCursor(psycopg.Cursor[Row]):
    """Sends the connection's queued commands in one pipeline with each statement."""

    __slots__ = ()

    def execute(
        self,
        query: Query,
        params: Params | None = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Self:
        connection = _running_on(self)
        statement = cast(QueryNoTemplate, query)
        if not connection.queued:
            return super().execute(statement, params, prepare=prepare, binary=binary)
        with connection.pipeline(), psycopg.Cursor(connection) as commands:
            with connection.uncached():
                for command in connection._take_queued():
                    commands.execute(command)
            super().execute(statement, params, prepare=prepare, binary=binary)
        return self

    def executemany(self, query: Query, params_seq: Any, *, returning: bool = False) -> None:
        _running_on(self).flush()
        super().executemany(query, params_seq, returning=returning)

    def stream(
        self,
        query: Query,
        params: Params | None = None,
        *,
        binary: bool | None = None,
        size: int = 1,
    ) -> Iterator[Row]:
        _running_on(self).flush()
        return super().stream(query, params, binary=binary, size=size)

    @contextmanager
    def copy(
        self, statement: Query, params: Params | None = None, *, writer: Writer | None = None
    ) -> Iterator[Copy]:
        _running_on(self).flush()
        with super().copy(statement, params, writer=writer) as copy:
            yield copy


def _running_on(cursor: psycopg.Cursor[Any] | psycopg.ServerCursor[Any]) -> HarnessConnection[Any]:
    """The cursor's connection, noted as used: a statement is about to run on it."""
    connection = cast(HarnessConnection[Any], cursor.connection)
    connection.settle()
    connection.used = True
    connection.untouched = False
    return connection


class HarnessServerCursor(psycopg.ServerCursor[Row]):
    """A named cursor: the queue is sent on its own first (they cannot join a pipeline)."""

    __slots__ = ()

    def execute(
        self,
        query: Query,
        params: Params | None = None,
        *,
        binary: bool | None = None,
        **kwargs: Any,
    ) -> Self:
        _running_on(self).flush()
        return super().execute(query, params, binary=binary, **kwargs)


class HarnessDialect(PGDialect_psycopg):
    """PostgreSQL through psycopg, on :class:`HarnessConnection`, savepoints queued."""

    supports_statement_cache = True

    def connect(self, *cargs: Any, **cparams: Any) -> DBAPIConnection:
        # Prepared when asked (prepare=True), never merely for being run often.
        options = {**cparams, "prepare_threshold": sys.maxsize}
        connection = HarnessConnection.connect(*cargs, **options)
        return cast(DBAPIConnection, connection)

    def do_savepoint(self, connection: Connection, name: str) -> None:
        harness_connection(connection).savepoint(name)

    def do_release_savepoint(self, connection: Connection, name: str) -> None:
        harness_connection(connection).release_savepoint(name)

    def do_rollback_to_savepoint(self, connection: Connection, name: str) -> None:
        harness_connection(connection).rollback_to_savepoint(name)


def is_harness_connection(connection: Connection) -> bool:
    """Whether an SQLAlchemy connection was made by :func:`connect_engine`."""
    return isinstance(connection.connection.driver_connection, HarnessConnection)


def harness_connection(connection: Connection) -> HarnessConnection[Any]:
    """The driver connection under an SQLAlchemy connection made by :func:`connect_engine`."""
    driver = connection.connection.driver_connection
    if not isinstance(driver, HarnessConnection):
        raise TypeError("not a connection of common.testing.connection.connect_engine()")
    return driver


def connect_engine(url: str) -> Engine:
    """An engine of one connection (``StaticPool``) on :class:`HarnessDialect`."""
    registry.register(f"postgresql.{_DRIVER}", __name__, "HarnessDialect")
    harness_url = make_url(url).set(drivername=f"postgresql+{_DRIVER}")
    return create_engine(harness_url, poolclass=StaticPool)
