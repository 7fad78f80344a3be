"""The job queue port over procrastinate's tables, written through the unit of work's session.

:meth:`SessionJobQueue.enqueue` calls procrastinate's own SQL function for deferring jobs in
the session's transaction, so a job exists exactly when the data that caused it was
committed. The function and its row type come with procrastinate's schema, which a migration
creates; nothing here imports procrastinate (or the service layer, whose port this is).

Inside a traced unit of work, the job carries its trace (W3C ``traceparent``) as one more
argument (:data:`common.telemetry.JOB_TRACE_ARGUMENT`), which the worker takes out and continues.
"""

from __future__ import annotations

import json
from typing import Protocol

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.orm import Session

from common.db import execute_one
from common.telemetry import JOB_TRACE_ARGUMENT, carrier

__all__ = ["QueuedTask", "SessionJobQueue", "drop_job_queue"]


class QueuedTask(Protocol):
    """What enqueueing needs of a task (``app.service.jobs.Task`` has it)."""

    @property
    def name(self) -> str: ...

    @property
    def queue(self) -> str: ...


# procrastinate_job_to_defer_v1 is (queue_name, task_name, priority, lock, queueing_lock,
# args, scheduled_at): no lock, no queueing lock, run as soon as a worker is free.
_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW("
    "CAST(:queue AS varchar), CAST(:task AS varchar), CAST(:priority AS integer), "
    "CAST(NULL AS text), CAST(NULL AS text), CAST(:args AS jsonb), "
    "CAST(NULL AS timestamptz)"
    ")]::procrastinate_job_to_defer_v1[])) AS id"
).bindparams(bindparam("priority", 0))


class SessionJobQueue:
    """Enqueue jobs in ``session``'s transaction; the caller commits (or rolls back)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def enqueue(self, task: QueuedTask, /, **arguments: object) -> None:
        if trace := carrier():
            arguments = {**arguments, JOB_TRACE_ARGUMENT: trace}
        execute_one(
            self._session,
            _DEFER,
            {"queue": task.queue, "task": task.name, "args": json.dumps(arguments)},
        )


# Everything procrastinate creates is named procrastinate_*: its functions (the trigger
# functions take the triggers with them), its tables (and their row types), then its types.
_DROP = text(
    r"""
DO $$
DECLARE
    object text;
BEGIN
    FOR object IN
        SELECT p.oid::regprocedure::text FROM pg_proc p
        WHERE p.pronamespace = current_schema()::regnamespace
          AND p.proname LIKE 'procrastinate\_%'
    LOOP
        EXECUTE 'DROP FUNCTION ' || object || ' CASCADE';
    END LOOP;
    FOR object IN
        SELECT quote_ident(tablename) FROM pg_tables
        WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\_%'
    LOOP
        EXECUTE 'DROP TABLE ' || object || ' CASCADE';
    END LOOP;
    FOR object IN
        SELECT quote_ident(t.typname) FROM pg_type t
        WHERE t.typnamespace = current_schema()::regnamespace
          AND t.typname LIKE 'procrastinate\_%' AND t.typtype IN ('c', 'e')
    LOOP
        EXECUTE 'DROP TYPE ' || object || ' CASCADE';
    END LOOP;
END
$$
"""
)


def drop_job_queue(connection: Connection) -> None:
    """Drop procrastinate's objects, jobs and all (for resetting a local database)."""
    connection.execute(_DROP)
