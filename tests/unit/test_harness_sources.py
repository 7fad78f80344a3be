"""Choosing the test database source, without starting anything."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from common.testing import sources


def test_test_database_url_wins() -> None:
    server = sources.acquire_server(
        {"TEST_DATABASE_URL": "postgres://u:p@db.internal:6543/postgres", "DOCKER_HOST": "x"}
    )
    assert server.source == "TEST_DATABASE_URL"
    assert server.admin_url == "postgresql+psycopg://u:p@db.internal:6543/postgres"
    assert "db.internal:6543" in server.description
    server.stop()  # nothing to stop: an existing server is left alone


def test_no_source_names_the_three_ways(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(sources.HarnessError) as caught:
        sources.acquire_server({"DOCKER_HOST": f"unix://{tmp_path}/missing.sock"})
    message = str(caught.value)
    assert "TEST_DATABASE_URL" in message
    assert "Docker" in message
    assert "initdb" in message


def test_initdb_as_root_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(sources.HarnessError, match="refuses to run as root"):
        sources.acquire_server({"DOCKER_HOST": f"unix://{tmp_path}/missing.sock"})


@pytest.mark.parametrize(
    "host", ["tcp://127.0.0.1:1", "ssh://somewhere", "unix:///nonexistent/docker.sock"]
)
def test_unreachable_docker_hosts(host: str) -> None:
    assert not sources._docker_reachable({"DOCKER_HOST": host})
