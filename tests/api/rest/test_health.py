"""Probes: ``/healthz`` never touches the database, ``/readyz`` is 503 when it does not answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from app.bootstrap import Runtime
from common.db import Database


@pytest.fixture
def database_down(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The runtime pointed at a port where nothing listens."""
    unreachable = Database("postgresql://postgres@127.0.0.1:9/nothing", pool_size=1)
    monkeypatch.setattr(runtime, "database", unreachable)
    yield
    unreachable.dispose()


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


@pytest.mark.usefixtures("database_down")
def test_without_a_database_the_process_is_alive_but_not_ready(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert response.json is not None
    assert response.json["type"] == "/problems/unavailable"
    assert response.json["detail"] == "the database does not answer"
