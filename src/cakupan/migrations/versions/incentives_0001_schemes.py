"""incentives: scheme versions as data

Revision ID: incentives_0001
Revises: partners_0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime

revision: str = "incentives_0001"
down_revision: str | Sequence[str] | None = "partners_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incentive_scheme",
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title_id", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date()),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("loaded_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_incentive_scheme"),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name="ck_incentive_scheme_dates"
        ),
        sa.CheckConstraint("version >= 1", name="ck_incentive_scheme_version"),
    )


def downgrade() -> None:
    op.drop_table("incentive_scheme")
