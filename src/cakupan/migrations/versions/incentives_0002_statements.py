"""incentives: monthly statements and their lines

Revision ID: incentives_0002
Revises: incentives_0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK

revision: str = "incentives_0002"
down_revision: str | Sequence[str] | None = "incentives_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incentive_statement",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("partner_code", sa.String(40), nullable=False),
        sa.Column("scheme_name", sa.String(60), nullable=False),
        sa.Column("scheme_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("fees", sa.JSON()),
        sa.Column("computed_at", AwareDateTime(), nullable=False),
        sa.Column("status_changed_by", sa.String(120)),
        sa.Column("status_changed_at", AwareDateTime()),
        sa.Column("status_reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_incentive_statement"),
        sa.UniqueConstraint(
            "period",
            "partner_code",
            "scheme_name",
            name="uq_incentive_statement_period_partner_code_scheme_name",
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'paid', 'disputed')",
            name="ck_incentive_statement_status",
        ),
    )
    op.create_index("ix_incentive_statement_period", "incentive_statement", ["period"])
    op.create_index("ix_incentive_statement_partner_code", "incentive_statement", ["partner_code"])
    op.create_table(
        "incentive_line",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("statement_id", BigIntPK, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("nik", sa.String(16)),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_incentive_line"),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["incentive_statement.id"],
            name="fk_incentive_line_statement_id_incentive_statement",
        ),
    )
    op.create_index("ix_incentive_line_statement_id", "incentive_line", ["statement_id"])


def downgrade() -> None:
    op.drop_table("incentive_line")
    op.drop_table("incentive_statement")
