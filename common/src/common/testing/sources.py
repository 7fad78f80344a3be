"""Where the test run's PostgreSQL comes from, tried in a fixed order.

1. ``TEST_DATABASE_URL`` set: that server (the URL's database is used for maintenance).
2. A Docker API reachable: one testcontainers PostgreSQL for the whole run
   (image ``POSTGRES_TEST_IMAGE``, default :data:`DEFAULT_IMAGE`).
3. ``initdb`` and ``pg_ctl`` on ``PATH`` (as ``nix develop`` provides) and not root:
   a throwaway cluster in a temporary directory.
4. None of these: :class:`HarnessError` naming the three ways.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from common.db import normalize_url

__all__ = ["DEFAULT_IMAGE", "HarnessError", "PostgresServer", "acquire_server"]

DEFAULT_IMAGE = "postgres:17-alpine"

NO_SOURCE_MESSAGE = """no PostgreSQL server for the tests. Give the run one of:
  1. TEST_DATABASE_URL=postgresql://USER:PASSWORD@HOST:PORT/postgres  (an existing server;
     the run creates and drops its own databases there and never touches others)
  2. a running Docker engine (or a compatible API in DOCKER_HOST) for testcontainers
     (image from POSTGRES_TEST_IMAGE, default {image})
  3. PostgreSQL server binaries (initdb, pg_ctl) on PATH, e.g. inside `nix develop`,
     as a user other than root{why}"""


class HarnessError(RuntimeError):
    """No usable PostgreSQL for the run."""


@dataclass
class PostgresServer:
    """A server the run may create and drop databases on."""

    admin_url: str
    source: str
    description: str
    _stop: Callable[[], None] | None = field(default=None, repr=False)

    def stop(self) -> None:
        if self._stop is not None:
            stop, self._stop = self._stop, None
            stop()


def acquire_server(environ: Mapping[str, str] | None = None) -> PostgresServer:
    env = os.environ if environ is None else environ
    url = env.get("TEST_DATABASE_URL", "").strip()
    if url:
        return _from_url(url)
    if _docker_reachable(env):
        return _start_container(env.get("POSTGRES_TEST_IMAGE") or DEFAULT_IMAGE)
    why = ""
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            why = "\n     (initdb and pg_ctl are on PATH, but initdb refuses to run as root)"
        else:
            return _start_local_cluster()
    raise HarnessError(NO_SOURCE_MESSAGE.format(image=DEFAULT_IMAGE, why=why))


def _from_url(url: str) -> PostgresServer:
    from sqlalchemy import make_url

    parsed = make_url(normalize_url(url))
    where = f"{parsed.host or 'local socket'}:{parsed.port or 5432}"
    return PostgresServer(
        admin_url=parsed.render_as_string(hide_password=False),
        source="TEST_DATABASE_URL",
        description=f"TEST_DATABASE_URL ({where})",
    )


def _docker_reachable(env: Mapping[str, str]) -> bool:
    """Whether a Docker API answers ``/_ping`` at ``DOCKER_HOST`` (or the default socket)."""
    host = env.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    address: str | tuple[str, int]
    if host.startswith("unix://"):
        family, address = socket.AF_UNIX, host.removeprefix("unix://")
        if not os.path.exists(address):
            return False
    elif host.startswith("tcp://"):
        name, _, port = host.removeprefix("tcp://").rstrip("/").rpartition(":")
        family, address = socket.AF_INET, (name or "127.0.0.1", int(port or 2375))
        if env.get("DOCKER_TLS_VERIFY"):
            return _can_connect(family, address)
    else:
        return False
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(3)
            sock.connect(address)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            status = sock.recv(64).split(b"\r\n", 1)[0]
    except OSError:
        return False
    return b" 200 " in status + b" "


def _can_connect(family: socket.AddressFamily, address: tuple[str, int]) -> bool:
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(3)
            sock.connect(address)
    except OSError:
        return False
    return True


def _start_container(image: str) -> PostgresServer:
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(
        image,
        username="postgres",
        password="postgres",  # noqa: S106 - a throwaway container on loopback
        dbname="postgres",
        driver="psycopg",
    )
    # Durability is pointless for a throwaway server; these make DDL and commits cheaper.
    # (The official entrypoint hands arguments that start with "-" to postgres.)
    container.with_command("-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
    try:
        container.start()
    except BaseException:
        with contextlib.suppress(Exception):
            container.stop()
        raise
    return PostgresServer(
        admin_url=container.get_connection_url(),
        source="testcontainers",
        description=f"testcontainers ({image})",
        _stop=container.stop,
    )


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_local_cluster() -> PostgresServer:
    root = tempfile.mkdtemp(prefix="pg-harness-")
    data, sockets = os.path.join(root, "data"), os.path.join(root, "sockets")
    os.mkdir(sockets)
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    try:
        run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {port} -k {sockets} -c listen_addresses='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        run("pg_ctl", "-D", data, "-o", options, "-l", os.path.join(root, "log"), "-w", "start")
    except (OSError, subprocess.CalledProcessError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        detail = getattr(exc, "stderr", b"") or b""
        raise HarnessError(f"could not start a local cluster: {exc} {detail.decode()}") from exc

    def stop() -> None:
        subprocess.run(
            ("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(root, ignore_errors=True)

    return PostgresServer(
        admin_url=f"postgresql+psycopg://postgres@/postgres?host={sockets}&port={port}",
        source="local cluster",
        description=f"throwaway cluster from initdb on PATH ({data})",
        _stop=stop,
    )
