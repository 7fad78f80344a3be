"""A bound on how long the database may keep a caller waiting, whatever the server does.

A slow query is cancelled by the server when asked; a server that answers nothing at all (a
frozen process, a host gone quiet) cannot be asked, and its kernel still acknowledges what is
sent, so no socket option notices either: a statement, a ``COMMIT`` or the ``ROLLBACK`` that
returns a connection to the pool would wait for ever. :class:`WatchedConnection` is psycopg's
connection with every wait on the server (the one place psycopg waits, ``Connection.wait``)
registered with a :class:`StatementWatchdog`. The watchdog's thread looks at the deadlines a
few times a second; a wait past its deadline is cancelled on the server, and if it still has
not ended ``grace`` seconds later, the connection's socket is shut, which ends the wait at
once. Either way the caller gets a driver error that the engine's error hook turns into
:class:`~common.errors.Unavailable`, and the pool replaces the connection.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import threading
import time
from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen

__all__ = ["StatementWatchdog", "WatchedConnection"]

logger = logging.getLogger(__name__)

#: Seconds between two looks at the deadlines: how late past its deadline a statement may end.
_TICK_SECONDS = 0.1


class StatementWatchdog:
    """Deadlines of the statements in flight, and the thread that enforces them.

    :meth:`watch` before a statement, :meth:`done` after it (both cost a lock and a dict
    entry). The thread starts with the first statement and runs until :meth:`close`.
    """

    def __init__(self, timeout: float, *, grace: float = 0.5) -> None:
        self.timeout = timeout
        self.grace = grace
        self._lock = threading.Lock()
        self._watched: dict[int, tuple[float, psycopg.Connection[Any]]] = {}
        #: The tokens of statements being stopped, until they end.
        self._stopping: set[int] = set()
        self._tokens = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def watch(self, connection: psycopg.Connection[Any]) -> int:
        """Start the clock on a statement about to run on ``connection``; its token."""
        token = next(self._tokens)
        with self._lock:
            self._watched[token] = (time.monotonic() + self.timeout, connection)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="db-statement-watchdog", daemon=True
                )
                self._thread.start()
        return token

    def done(self, token: int) -> None:
        """The statement of ``token`` ended (well or not)."""
        with self._lock:
            self._watched.pop(token, None)
            self._stopping.discard(token)

    def close(self) -> None:
        self._closed.set()

    def _run(self) -> None:
        while not self._closed.wait(_TICK_SECONDS):
            now = time.monotonic()
            with self._lock:
                late = [
                    (token, conn)
                    for token, (end, conn) in self._watched.items()
                    if end <= now and token not in self._stopping
                ]
                self._stopping.update(token for token, _conn in late)
            for token, connection in late:
                self._stop(token, connection)

    def _stop(self, token: int, connection: psycopg.Connection[Any]) -> None:
        logger.warning(
            "a statement ran past the database timeout (%.1f s): cancelling it", self.timeout
        )
        deadline = time.monotonic() + self.grace
        with contextlib.suppress(psycopg.Error, OSError):  # not taken in time: the socket goes
            connection.cancel_safe(timeout=self.grace)
        # Cancelled, the statement ends with an error, unless the server is gone quiet.
        while time.monotonic() < deadline:
            with self._lock:
                if token not in self._stopping:
                    return
            time.sleep(0.01)
        self._shut(connection)

    @staticmethod
    def _shut(connection: psycopg.Connection[Any]) -> None:
        """End every wait on the connection's socket: the statement fails at once."""
        with contextlib.suppress(OSError, psycopg.Error):
            fd = connection.pgconn.socket
            with socket.socket(fileno=socket.dup(fd)) as duplicate:
                duplicate.shutdown(socket.SHUT_RDWR)


RV = TypeVar("RV")


class WatchedConnection(psycopg.Connection[Any]):
    """psycopg's connection, every wait on the server bounded by :attr:`watchdog` (if set)."""

    watchdog: StatementWatchdog | None = None

    def wait(self, gen: PQGen[RV], interval: float = 0.1, timeout: float | None = None) -> RV:
        watchdog = self.watchdog
        if watchdog is None:
            return super().wait(gen, interval, timeout)
        token = watchdog.watch(self)
        try:
            return super().wait(gen, interval, timeout)
        finally:
            watchdog.done(token)
