"""job queue: procrastinate schema 3.10.0

Revision ID: 1662dd805924
Revises: 456582f172bb
Create Date: 2026-11-28 06:51:42.730953+00:00

procrastinate keeps its jobs in PostgreSQL: tables, types, functions and triggers, none of
them in the models' metadata (migrations/env.py leaves ``procrastinate_*`` out of the drift
check). The schema is a copy of the one procrastinate 3.10.0 ships, kept beside the
migrations so this revision builds the same objects whatever version is installed later. A
procrastinate upgrade that changes the schema needs a revision of its own applying the
package's migration files (``procrastinate.schema.SchemaManager.get_migrations_path()``);
tests/integration/worker/test_schema.py fails until the database matches the package again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "1662dd805924"
down_revision: str | Sequence[str] | None = "456582f172bb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).resolve().parent.parent / "sql" / "procrastinate-3.10.0.sql"

TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
FUNCTIONS = (
    "procrastinate_defer_jobs_v1",
    "procrastinate_defer_periodic_job_v2",
    "procrastinate_fetch_job_v2",
    "procrastinate_finish_job_v1",
    "procrastinate_cancel_job_v1",
    "procrastinate_retry_job_v1",
    "procrastinate_retry_job_v2",
    "procrastinate_register_worker_v1",
    "procrastinate_unregister_worker_v1",
    "procrastinate_update_heartbeat_v1",
    "procrastinate_prune_stalled_workers_v1",
)
#: Used by the tables' triggers, so dropped after the tables.
TRIGGER_FUNCTIONS = (
    "procrastinate_notify_queue_job_inserted_v1",
    "procrastinate_notify_queue_abort_job_v1",
    "procrastinate_trigger_function_status_events_insert_v1",
    "procrastinate_trigger_function_status_events_update_v1",
    "procrastinate_trigger_function_scheduled_events_v1",
    "procrastinate_trigger_abort_requested_events_procedure_v1",
    "procrastinate_unlink_periodic_defers_v1",
)
TYPES = (
    "procrastinate_job_to_defer_v1",
    "procrastinate_job_event_type",
    "procrastinate_job_status",
)


def upgrade() -> None:
    op.execute(sa.text(SCHEMA.read_text(encoding="utf-8")))


def downgrade() -> None:
    # Functions first (one returns a job row), then the tables with their triggers, then
    # the trigger functions and the types; no CASCADE, so nothing else goes with them.
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    op.execute(f"DROP TABLE {', '.join(TABLES)}")
    for function in TRIGGER_FUNCTIONS:
        op.execute(f"DROP FUNCTION {function}")
    op.execute(f"DROP TYPE {', '.join(TYPES)}")
