"""login throttle and notification deliveries

Revision ID: 89fabacaa1f4
Revises: 2d8d7c286e39
Create Date: 2026-12-07 01:18:08.046924+00:00

auth_login_throttle: failed log-ins counted per account and per client address (hashed keys).
notification_deliveries: the messages claimed for each user, so that none goes out twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "89fabacaa1f4"
down_revision: str | Sequence[str] | None = "2d8d7c286e39"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_auth_login_throttle")),
    )
    op.create_index(
        op.f("ix_auth_login_throttle_window_started_at"),
        "auth_login_throttle",
        ["window_started_at"],
        unique=False,
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notification_deliveries")),
    )


def downgrade() -> None:
    op.drop_table("notification_deliveries")
    op.drop_index(
        op.f("ix_auth_login_throttle_window_started_at"), table_name="auth_login_throttle"
    )
    op.drop_table("auth_login_throttle")
