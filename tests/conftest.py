"""Fixtures for the whole suite, on top of the ``common.testing`` PostgreSQL harness.

The harness gives each xdist worker its own database cloned from a template built by the
migrations; here the app is bootstrapped once per worker against it, and every test that
asks for ``session`` runs inside a transaction rolled back at its end.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app import bootstrap as app_bootstrap
from app.bootstrap import Runtime, Services
from app.config import Settings
from common.testing import alembic_upgrade
from common.testing.plugin import pg_test_transaction
from tests.factories import Factories

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["pytester"]

_MARKERS = {
    "unit": "unit",
    "integration": "integration",
    "api": "api",
    # notes on its own, through its REST and gRPC APIs (docs/splitting-a-service.md)
    "split": "api",
    "env": "env",
    "guardrails": "guardrails",
    "reliability": "reliability",
    "newcomer": "newcomer",
}
#: Tiers that take minutes, left out unless asked for with ``--tier`` (CI asks for each): a
#: folder's (``newcomer``), or a marker's (``long``, tests of any folder).
_OPT_IN_TIERS = ("newcomer", "long")


def pytest_pg_harness_build_schema(url: str) -> bool:
    alembic_upgrade(url, ROOT / "alembic.ini")
    return True


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-fast-path",
        action="store_true",
        help="run the app on common.db's opt-in fast path (DATABASE_FAST_PATH), as CI does too",
    )
    parser.addoption(
        "--tier",
        action="append",
        default=[],
        choices=_OPT_IN_TIERS,
        help="also run this tier, left out by default because it takes minutes (repeatable)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("tier"))
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        parts = Path(item.path).relative_to(ROOT).parts
        tier = _MARKERS.get(parts[1]) if len(parts) > 1 else None
        if tier is not None:
            item.add_marker(tier)
        if item.get_closest_marker("long") is not None:
            tier = "long"
        (left_out if tier in _OPT_IN_TIERS and tier not in wanted else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The process exits next: freeze its heap, so the interpreter's last collections skip it.

    Those collections cost each xdist worker about a second after its last test, and the run
    waits for its slowest worker to exit.
    """
    gc.freeze()


def make_test_settings(database_url: str, **changes: Any) -> Settings:
    """Settings for tests: never read from the environment or ``.env``."""
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": database_url,
        "password_time_cost": 1,
        "password_memory_cost_kib": 8,
        "password_parallelism": 1,
        "log_level": "WARNING",
    }
    values.update(changes)
    return _HermeticSettings(**values)


class _HermeticSettings(Settings):
    """Settings built from the given values only: the developer's environment cannot leak in."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@pytest.fixture(scope="session")
def settings(request: pytest.FixtureRequest, pg_database_url: str) -> Settings:
    fast_path = bool(request.config.getoption("database_fast_path", default=False))
    return make_test_settings(pg_database_url, database_fast_path=fast_path)


@pytest.fixture(scope="session")
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = app_bootstrap.bootstrap(settings)
    yield runtime
    app_bootstrap.shutdown()


@pytest.fixture
def services(runtime: Runtime, pg_connection: Connection) -> Iterator[Services]:
    """The app's services, their session inside the test's savepoint, rolled back after it.

    One fixture does the work of ``pg_transaction``, binding the session and building the
    services: each fixture costs every test that uses it pytest's own work.
    """
    with pg_test_transaction(pg_connection) as connection:
        runtime.database.bind_to(connection)
        try:
            yield runtime.services()
        finally:
            runtime.database.remove_session()


@pytest.fixture
def session(runtime: Runtime, services: Services) -> Session:
    """The unit of work's session (the one ``services`` use)."""
    return runtime.database.session


@pytest.fixture
def factories(services: Services) -> Factories:
    return Factories(services)


class TickingClock:
    """A clock that ticks one microsecond at every reading (no two timestamps tie, as none do
    on a real clock) and jumps only when told to (:meth:`advance`)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(microseconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(runtime: Runtime) -> Iterator[TickingClock]:
    fake = TickingClock(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    original, runtime.clock = runtime.clock, fake
    yield fake
    runtime.clock = original


@pytest.fixture
def override_settings(runtime: Runtime) -> Iterator[Callable[..., Settings]]:
    """``override_settings(token_ttl_seconds=60)``: changed settings for this test only."""
    original = runtime.settings

    def override(**changes: Any) -> Settings:
        runtime.settings = original.model_copy(update=changes)
        return runtime.settings

    yield override
    runtime.settings = original
