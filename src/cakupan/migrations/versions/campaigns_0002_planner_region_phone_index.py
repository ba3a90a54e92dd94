"""campaigns: a campaign's regional office (planner scope) and an index on participant.phone

Revision ID: campaigns_0002
Revises: campaigns_0001
Create Date: 2026-11-26

``campaign.region_code``: a campaign planned by a regional office for its whole region (no
branch); ``NULL`` with no branch = a national campaign. ``ix_participant_phone``: the prospect
import matches phones without a NIK against the registry with ``participant.phone IN (the stored
forms of each phone)`` (``rules.stored_phone_forms``); the registry stores phones as digits with an
optional leading ``+`` (``registry.inputs``), so a plain index on the column serves the match. The
index lives in this chain because this area is its only reader (the registry's models are
untouched: the index is declared in ``campaigns/models.py``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "campaigns_0002"
down_revision: str | Sequence[str] | None = "campaigns_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("campaign", sa.Column("region_code", sa.String(20), nullable=True))
    op.create_index("ix_campaign_region_code", "campaign", ["region_code"])
    op.create_index("ix_participant_phone", "participant", ["phone"])


def downgrade() -> None:
    op.drop_index("ix_participant_phone", table_name="participant")
    op.drop_index("ix_campaign_region_code", table_name="campaign")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("region_code")
