"""claims: benefit stories (paid claims told with the claimant's consent, no NIK)

Revision ID: claims_0002
Revises: claims_0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK

revision: str = "claims_0002"
down_revision: str | Sequence[str] | None = "claims_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "benefit_story",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("claim_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.String(4000), nullable=False),
        sa.Column("claim_type", sa.String(3), nullable=False),
        sa.Column("amount", sa.BigInteger()),
        sa.Column("branch_code", sa.String(20)),
        sa.Column("consent_by", sa.String(200), nullable=False),
        sa.Column("consent_on", sa.Date(), nullable=False),
        sa.Column("consent_method", sa.String(20), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_benefit_story"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], name="fk_benefit_story_claim_id_claim"),
        sa.UniqueConstraint("code", name="uq_benefit_story_code"),
        sa.UniqueConstraint("claim_id", name="uq_benefit_story_claim_id"),
    )


def downgrade() -> None:
    op.drop_table("benefit_story")
