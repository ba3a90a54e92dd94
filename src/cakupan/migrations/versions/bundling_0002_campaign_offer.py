"""bundling: the offer a campaign promotes

Revision ID: bundling_0002
Revises: bundling_0001
Depends on: campaigns_0001 (campaign)
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime

revision: str = "bundling_0002"
down_revision: str | Sequence[str] | None = "bundling_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("campaigns_0001",)


def upgrade() -> None:
    op.create_table(
        "bundle_campaign_offer",
        sa.Column("campaign_code", sa.String(40), nullable=False),
        sa.Column("offer_code", sa.String(40), nullable=False),
        sa.Column("linked_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_code", name="pk_bundle_campaign_offer"),
        sa.ForeignKeyConstraint(
            ["campaign_code"],
            ["campaign.code"],
            name="fk_bundle_campaign_offer_campaign_code_campaign",
        ),
        sa.ForeignKeyConstraint(
            ["offer_code"],
            ["bundle_offer.code"],
            name="fk_bundle_campaign_offer_offer_code_bundle_offer",
        ),
    )
    op.create_index("ix_bundle_campaign_offer_offer_code", "bundle_campaign_offer", ["offer_code"])


def downgrade() -> None:
    op.drop_table("bundle_campaign_offer")
