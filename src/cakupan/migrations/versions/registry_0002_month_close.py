"""registry: monthly lifecycle close (month_close, status_snapshot, status_transition)

Revision ID: registry_0002
Revises: registry_0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, MonthType

revision: str = "registry_0002"
down_revision: str | Sequence[str] | None = "registry_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "month_close",
        sa.Column("month", MonthType(), nullable=False),
        sa.Column("closed_at", AwareDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("month", name="pk_month_close"),
    )
    op.create_table(
        "status_snapshot",
        sa.Column("month", MonthType(), nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("membership_id", sa.BigInteger(), nullable=False),
        sa.Column("episode_no", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("paid_through_month", MonthType()),
        sa.Column("months_paid", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "participant_id", name="pk_status_snapshot"),
        sa.CheckConstraint(
            "status IN ('pending', 'active', 'arrears', 'closed', 'void')",
            name="ck_status_snapshot_status",
        ),
    )
    op.create_table(
        "status_transition",
        sa.Column("month", MonthType(), nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("membership_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "participant_id", "kind", name="pk_status_transition"),
        sa.CheckConstraint(
            "kind IN ('new', 'lapsed_to_arrears', 'closed_by_system', 'reacquired', 'voided')",
            name="ck_status_transition_kind",
        ),
    )


def downgrade() -> None:
    op.drop_table("status_transition")
    op.drop_table("status_snapshot")
    op.drop_table("month_close")
