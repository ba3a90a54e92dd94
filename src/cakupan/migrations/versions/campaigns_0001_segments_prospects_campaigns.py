"""campaigns: occupation groups, segments, market potential, campaigns, prospects and contacts

Revision ID: campaigns_0001
Revises: foundation_0001
Depends on: registry_0001 (occupation, membership)
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.campaigns.models import (
    CAMPAIGN_TYPE_CHECK,
    OUTCOME_CHECK,
    REASON_CHECK,
    REFUSED_HAS_REASON,
)
from cakupan.db import AwareDateTime, BigIntPK

revision: str = "campaigns_0001"
down_revision: str | Sequence[str] | None = "foundation_0001"
branch_labels: str | Sequence[str] | None = ("campaigns",)
depends_on: str | Sequence[str] | None = "registry_0001"


def upgrade() -> None:
    op.create_table(
        "occupation_group",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name_id", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_occupation_group"),
    )
    op.create_table(
        "occupation_group_member",
        sa.Column("group_code", sa.String(40), nullable=False),
        sa.Column("occupation_code", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("group_code", "occupation_code", name="pk_occupation_group_member"),
        sa.ForeignKeyConstraint(
            ["group_code"],
            ["occupation_group.code"],
            name="fk_occupation_group_member_group_code_occupation_group",
        ),
        sa.ForeignKeyConstraint(
            ["occupation_code"],
            ["occupation.code"],
            name="fk_occupation_group_member_occupation_code_occupation",
        ),
    )
    op.create_table(
        "segment",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name_id", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("partner_institutions", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(400), nullable=False),
        sa.Column("shipped", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_segment"),
    )
    op.create_table(
        "market_potential",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("segment_code", sa.String(40), nullable=False),
        sa.Column("area_code", sa.String(20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("potential", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(400), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_market_potential"),
        sa.ForeignKeyConstraint(
            ["segment_code"], ["segment.code"], name="fk_market_potential_segment_code_segment"
        ),
        sa.UniqueConstraint(
            "segment_code",
            "area_code",
            "year",
            name="uq_market_potential_segment_code_area_code_year",
        ),
        sa.CheckConstraint("potential >= 0", name="ck_market_potential_potential"),
    )
    op.create_index("ix_market_potential_area_code", "market_potential", ["area_code"])
    op.create_table(
        "campaign",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("objective", sa.Text(), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("medium", sa.String(40)),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("window_end_on", sa.Date(), nullable=False),
        sa.Column("budget", sa.BigInteger(), nullable=False),
        sa.Column("actual_cost", sa.BigInteger()),
        sa.Column("reported_reached", sa.Integer()),
        sa.Column("reported_interested", sa.Integer()),
        sa.Column("branch_code", sa.String(20)),
        sa.Column("partners", sa.JSON(), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("stories", sa.JSON(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_campaign"),
        sa.CheckConstraint(CAMPAIGN_TYPE_CHECK, name="ck_campaign_type"),
        sa.CheckConstraint("end_on >= start_on", name="ck_campaign_dates"),
        sa.CheckConstraint("budget >= 0", name="ck_campaign_budget"),
        sa.CheckConstraint(
            "actual_cost IS NULL OR actual_cost >= 0", name="ck_campaign_actual_cost"
        ),
        sa.CheckConstraint("window_days >= 0", name="ck_campaign_window_days"),
    )
    op.create_index("ix_campaign_type", "campaign", ["type"])
    op.create_index("ix_campaign_branch_code", "campaign", ["branch_code"])
    op.create_table(
        "campaign_segment",
        sa.Column("campaign_code", sa.String(40), nullable=False),
        sa.Column("segment_code", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("campaign_code", "segment_code", name="pk_campaign_segment"),
        sa.ForeignKeyConstraint(
            ["campaign_code"], ["campaign.code"], name="fk_campaign_segment_campaign_code_campaign"
        ),
        sa.ForeignKeyConstraint(
            ["segment_code"], ["segment.code"], name="fk_campaign_segment_segment_code_segment"
        ),
    )
    op.create_table(
        "campaign_area",
        sa.Column("campaign_code", sa.String(40), nullable=False),
        sa.Column("area_code", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("campaign_code", "area_code", name="pk_campaign_area"),
        sa.ForeignKeyConstraint(
            ["campaign_code"], ["campaign.code"], name="fk_campaign_area_campaign_code_campaign"
        ),
    )
    op.create_table(
        "campaign_code_use",
        sa.Column("membership_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_code", sa.String(40), nullable=False),
        sa.Column("given_at", sa.String(20), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("membership_id", name="pk_campaign_code_use"),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["membership.id"],
            name="fk_campaign_code_use_membership_id_membership",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_code"], ["campaign.code"], name="fk_campaign_code_use_campaign_code_campaign"
        ),
        sa.CheckConstraint(
            "given_at IN ('registration', 'payment')", name="ck_campaign_code_use_given_at"
        ),
    )
    op.create_index("ix_campaign_code_use_campaign_code", "campaign_code_use", ["campaign_code"])
    op.create_table(
        "prospect_list",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("file_name", sa.String(400), nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("institution", sa.String(200)),
        sa.Column("imported_at", AwareDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prospect_list"),
    )
    op.create_index("ix_prospect_list_file_hash", "prospect_list", ["file_hash"])
    op.create_table(
        "prospect",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("list_id", sa.BigInteger(), nullable=False),
        sa.Column("nik", sa.String(16)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(30)),
        sa.Column("phone_key", sa.String(20)),
        sa.Column("occupation", sa.String(40)),
        sa.Column("district_code", sa.String(20)),
        sa.Column("village_code", sa.String(20)),
        sa.Column("campaign_code", sa.String(40)),
        sa.Column("listed_on", sa.Date(), nullable=False),
        sa.Column("assigned_to", sa.String(120)),
        sa.Column("assigned_kind", sa.String(10)),
        sa.PrimaryKeyConstraint("id", name="pk_prospect"),
        sa.ForeignKeyConstraint(
            ["list_id"], ["prospect_list.id"], name="fk_prospect_list_id_prospect_list"
        ),
        sa.ForeignKeyConstraint(
            ["campaign_code"], ["campaign.code"], name="fk_prospect_campaign_code_campaign"
        ),
    )
    for column in ("list_id", "nik", "name_key", "phone_key", "district_code", "campaign_code"):
        op.create_index(f"ix_prospect_{column}", "prospect", [column])
    op.create_index("ix_prospect_assigned_to", "prospect", ["assigned_to"])
    op.create_table(
        "prospect_contact",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("prospect_id", sa.BigInteger(), nullable=False),
        sa.Column("contacted_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("refusal_reason", sa.String(30)),
        sa.Column("note", sa.Text()),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("recorded_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prospect_contact"),
        sa.ForeignKeyConstraint(
            ["prospect_id"], ["prospect.id"], name="fk_prospect_contact_prospect_id_prospect"
        ),
        sa.CheckConstraint(OUTCOME_CHECK, name="ck_prospect_contact_outcome"),
        sa.CheckConstraint(REASON_CHECK, name="ck_prospect_contact_refusal_reason"),
        sa.CheckConstraint(REFUSED_HAS_REASON, name="ck_prospect_contact_refused_has_reason"),
    )
    op.create_index("ix_prospect_contact_prospect_id", "prospect_contact", ["prospect_id"])


def downgrade() -> None:
    for table in (
        "prospect_contact",
        "prospect",
        "prospect_list",
        "campaign_code_use",
        "campaign_area",
        "campaign_segment",
        "campaign",
        "market_potential",
        "segment",
        "occupation_group_member",
        "occupation_group",
    ):
        op.drop_table(table)
