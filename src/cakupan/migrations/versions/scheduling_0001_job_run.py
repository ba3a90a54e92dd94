"""scheduling: the record of scheduled job runs

Revision ID: scheduling_0001
Revises: foundation_0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK

revision: str = "scheduling_0001"
down_revision: str | Sequence[str] | None = "foundation_0001"
branch_labels: str | Sequence[str] | None = ("scheduling",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("job", sa.String(40), nullable=False),
        sa.Column("period", sa.String(20), nullable=True),
        sa.Column("started_at", AwareDateTime(), nullable=False),
        sa.Column("finished_at", AwareDateTime(), nullable=True),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("worker", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_run"),
    )
    op.create_index("ix_job_run_job_period", "job_run", ["job", "period"])
    op.create_index("ix_job_run_started_at", "job_run", ["started_at"])


def downgrade() -> None:
    op.drop_table("job_run")
