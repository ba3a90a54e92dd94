"""registry: months to close again because late data arrived (month_reclose, issue 21)

Revision ID: registry_0004_month_reclose
Revises: registry_0003_ledger_indexes
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, MonthType

revision: str = "registry_0004_month_reclose"
down_revision: str | Sequence[str] | None = "registry_0003_ledger_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "month_reclose",
        sa.Column("month", MonthType(), nullable=False),
        sa.Column("queued_at", AwareDateTime(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("month", name="pk_month_reclose"),
    )


def downgrade() -> None:
    op.drop_table("month_reclose")
