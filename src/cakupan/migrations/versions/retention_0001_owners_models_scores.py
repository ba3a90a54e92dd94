"""retention: owners of worklist rows, lapse-risk models and their monthly scores (issue 15)

Revision ID: retention_0001
Revises: foundation_0001
Depends on: registry_0001 (participant)
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK, MonthType

revision: str = "retention_0001"
down_revision: str | Sequence[str] | None = "foundation_0001"
branch_labels: str | Sequence[str] | None = ("retention",)
depends_on: str | Sequence[str] | None = "registry_0001"


def upgrade() -> None:
    op.create_table(
        "retention_owner",
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(60), nullable=False),
        sa.Column("assigned_at", AwareDateTime(), nullable=False),
        sa.Column("assigned_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("participant_id", name="pk_retention_owner"),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name="fk_retention_owner_participant_id_participant",
        ),
    )
    op.create_index("ix_retention_owner_owner", "retention_owner", ["owner"])
    op.create_table(
        "retention_model",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("version", sa.String(60), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("train_first", MonthType(), nullable=False),
        sa.Column("train_last", MonthType(), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("lapsed", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("artifact", sa.LargeBinary(), nullable=False),
        sa.Column("trained_at", AwareDateTime(), nullable=False),
        sa.Column("trained_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_retention_model"),
        sa.UniqueConstraint("version", name="uq_retention_model_version"),
    )
    op.create_table(
        "retention_score",
        sa.Column("month", MonthType(), nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("membership_id", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("reasons", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("month", "participant_id", name="pk_retention_score"),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name="fk_retention_score_participant_id_participant",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["retention_model.id"],
            name="fk_retention_score_model_id_retention_model",
        ),
    )


def downgrade() -> None:
    op.drop_table("retention_score")
    op.drop_table("retention_model")
    op.drop_table("retention_owner")
