"""Worker fixtures: the service's real procrastinate app, run for one batch in the test's transaction.

Jobs are enqueued and run for real, through procrastinate's SQL in PostgreSQL; only the
connection is the test's (see :mod:`tests.integration.worker.support`), so everything a test
enqueues, runs and delivers is rolled back with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from procrastinate import App
from procrastinate.periodic import PeriodicDeferrer
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from app.bootstrap import Runtime
from app.config import Settings
from app.db.models import MailOutboxRow
from app.worker.app import create_app
from tests.integration.worker.support import TransactionConnector

#: A batch that has not finished by then has hung: fail instead of waiting forever.
BATCH_TIMEOUT = 20


class Queue:
    """The job queue as a test sees it: run a batch, read jobs and delivered mail.

    ``app`` is the worker's app without its schedule (so no periodic job appears by
    surprise); ``scheduled`` is the same with it, for tests of the periodic tasks.
    """

    def __init__(self, app: App, scheduled: App, session: Session) -> None:
        self.app = app
        self.scheduled = scheduled
        self.session = session

    def run_batch(self, **options: Any) -> None:
        """Run a worker until no job is due (``wait=False``), like one pass of the real one."""
        options = {
            "wait": False,
            "listen_notify": False,
            "install_signal_handlers": False,
            **options,
        }
        asyncio.run(asyncio.wait_for(self.app.run_worker_async(**options), BATCH_TIMEOUT))

    def schedule(self, task_name: str, timestamp: int) -> str:
        """Defer ``task_name`` as the worker's schedule does at ``timestamp``; its cron line."""
        registry = self.scheduled.periodic_registry
        [periodic] = [
            periodic
            for periodic in registry.periodic_tasks.values()
            if periodic.task.name == task_name
        ]
        asyncio.run(PeriodicDeferrer(registry=registry).defer_jobs([(periodic, timestamp)]))
        return periodic.cron

    def jobs(self, task_name: str) -> list[Any]:
        """The jobs of one task, oldest first (succeeded jobs are deleted by the worker)."""
        return list(
            self.session.execute(
                text(
                    "SELECT id, queue_name, status, attempts, args, scheduled_at "
                    "FROM procrastinate_jobs WHERE task_name = :task ORDER BY id"
                ),
                {"task": task_name},
            )
        )

    def make_due(self) -> None:
        """Bring retries scheduled for later forward to now (the transaction's start)."""
        self.session.execute(
            text("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")
        )

    def mail_to(self, recipient: str) -> list[MailOutboxRow]:
        query = select(MailOutboxRow).where(MailOutboxRow.recipient == recipient)
        return list(self.session.scalars(query.order_by(MailOutboxRow.created_at)))


@pytest.fixture
def queue(
    runtime: Runtime,
    session: Session,
    pg_transaction: Connection,
    override_settings: Callable[..., Settings],
) -> Queue:
    override_settings(mail_backend="outbox")
    connector = TransactionConnector(pg_transaction)
    return Queue(
        create_app(runtime, connector=connector, periodic=False),
        create_app(runtime, connector=connector),
        session,
    )
