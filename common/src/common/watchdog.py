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

A server that had to be cut off so, or that a new connection waited on in vain, has gone
quiet: until it answers again the watchdog says so (:attr:`StatementWatchdog.quiet`), so that
work fails at once instead of each unit of work waiting out the timeout in turn, and its
thread asks the server (``probe``) a few times a second whether it is back.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg.abc import PQGen

__all__ = ["StatementWatchdog", "WatchedConnection"]

logger = logging.getLogger(__name__)

#: Seconds between two looks at the deadlines: how late past its deadline a statement may end.
_TICK_SECONDS = 0.1
#: Seconds between two probes of a server gone quiet.
PROBE_SECONDS = 0.25


class StatementWatchdog:
    """Deadlines of the statements in flight, and the thread that enforces them.

    :meth:`watch` before a statement, :meth:`done` after it (both cost a lock and a dict
    entry). The thread starts with the first statement and runs until :meth:`close`.
    ``probe`` asks the server whether it answers (raising when it does not), for a server
    gone quiet.
    """

    def __init__(
        self, timeout: float, *, grace: float = 0.5, probe: Callable[[], object] | None = None
    ) -> None:
        self.timeout = timeout
        self.grace = grace
        self._probe = probe
        #: Whether the server has gone quiet (see the module docstring).
        self.quiet = False
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
            self._start()
        return token

    def gone_quiet(self) -> None:
        """The server answers nothing: say so until a probe finds it back."""
        if not self.quiet:
            logger.warning("the database answers nothing: failing fast until it does")
        with self._lock:
            self.quiet = True
            self._start()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="db-statement-watchdog", daemon=True
            )
            self._thread.start()

    def done(self, token: int) -> None:
        """The statement of ``token`` ended (well or not)."""
        with self._lock:
            self._watched.pop(token, None)
            self._stopping.discard(token)

    def close(self) -> None:
        self._closed.set()

    def _run(self) -> None:
        next_probe = 0.0
        while not self._closed.wait(_TICK_SECONDS):
            now = time.monotonic()
            if self.quiet and now >= next_probe:
                next_probe = now + PROBE_SECONDS
                self._ask_whether_back()
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
        self.gone_quiet()

    def _ask_whether_back(self) -> None:
        if self._probe is None:
            self.quiet = False
            return
        try:
            self._probe()
        except (psycopg.Error, OSError):
            return
        logger.warning("the database answers again")
        self.quiet = False

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
