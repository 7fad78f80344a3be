"""mail outbox

Revision ID: 2d8d7c286e39
Revises: 1662dd805924
Create Date: 2026-11-28 06:52:20.787100+00:00

The local mail backend's table (MAIL_BACKEND=outbox): the messages it delivered.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2d8d7c286e39"
down_revision: str | Sequence[str] | None = "1662dd805924"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index(
        "ix_mail_outbox_recipient_created_at",
        "mail_outbox",
        ["recipient", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_mail_outbox_recipient_created_at", table_name="mail_outbox")
    op.drop_table("mail_outbox")
