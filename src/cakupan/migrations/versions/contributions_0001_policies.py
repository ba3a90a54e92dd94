"""contributions: dated, versioned contribution policies and band tables

Revision ID: contributions_0001
Revises: foundation_0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import MonthType

revision: str = "contributions_0001"
down_revision: str | Sequence[str] | None = "foundation_0001"
branch_labels: str | Sequence[str] | None = ("contributions",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contribution_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("program", sa.String(3)),
        sa.Column("sector", sa.String(12)),
        sa.Column("funding", sa.String(8)),
        sa.Column("valid_from", MonthType(), nullable=False),
        sa.Column("valid_to", MonthType()),
        sa.Column("percent", sa.String(24)),
        sa.Column("amount", sa.BigInteger()),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contribution_policy"),
        sa.UniqueConstraint("code", "version", name="uq_contribution_policy_code_version"),
        sa.CheckConstraint(
            "kind IN ('bands', 'rate', 'flat', 'discount')", name="ck_contribution_policy_kind"
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name="ck_contribution_policy_validity"
        ),
    )
    op.create_table(
        "contribution_band",
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("lower_income", sa.BigInteger(), nullable=False),
        sa.Column("base_income", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("policy_id", "lower_income", name="pk_contribution_band"),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["contribution_policy.id"],
            name="fk_contribution_band_policy_id_contribution_policy",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("contribution_band")
    op.drop_table("contribution_policy")
