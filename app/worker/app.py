"""The procrastinate app: a connector to the service's database, the tasks, worker defaults.

:func:`create_app` builds it from a bootstrapped runtime; nothing exists at import time.
"""

from __future__ import annotations

from procrastinate import App, BaseConnector, PsycopgConnector
from procrastinate.app import WorkerOptions
from sqlalchemy import URL

from app.bootstrap import Runtime
from app.worker import tasks
from app.worker.context import RUNTIME, unit_of_work

__all__ = ["create_app"]


def create_app(
    runtime: Runtime, *, connector: BaseConnector | None = None, periodic: bool = True
) -> App:
    """The worker app for ``runtime``; ``App.run_worker()`` opens it and runs a worker.

    ``connector`` defaults to a psycopg pool on ``DATABASE_URL``. ``periodic=False`` leaves
    the periodic tasks off the schedule (tests run them explicitly).
    """
    settings = runtime.settings
    app = App(
        connector=connector
        or _connector(
            runtime.database.engine.url,
            settings.worker_concurrency,
            prepared_statements=settings.database_prepared_statements,
        ),
        worker_defaults=WorkerOptions(
            name="worker",
            concurrency=settings.worker_concurrency,
            listen_notify=settings.worker_listen_notify,
            fetch_job_polling_interval=settings.worker_polling_seconds,
            additional_context={RUNTIME: runtime},
            task_middleware=[unit_of_work],
            # Failed jobs stay in procrastinate_jobs, for inspection and a manual retry.
            delete_jobs="successful",
        ),
    )
    tasks.register(app, periodic=periodic)
    return app


def _connector(url: URL, concurrency: int, *, prepared_statements: bool) -> PsycopgConnector:
    # This pool serves the worker's own queries (fetching and finishing jobs, heartbeats,
    # the schedule); tasks use the runtime's SQLAlchemy engine. Like the engine, it prepares
    # no statement where DATABASE_PREPARED_STATEMENTS is false (a pooler in transaction mode).
    return PsycopgConnector(
        conninfo=url.set(drivername="postgresql").render_as_string(hide_password=False),
        min_size=1,
        max_size=concurrency + 2,
        name="procrastinate",
        kwargs={} if prepared_statements else {"prepare_threshold": None},
    )
