"""bundling: offers of partner products bundled with BPU coverage, enrolments, payers

Revision ID: bundling_0001
Revises: foundation_0001
Depends on: registry_0001 (membership, payment), partners_0001 (partner)
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime

revision: str = "bundling_0001"
down_revision: str | Sequence[str] | None = "foundation_0001"
branch_labels: str | Sequence[str] | None = ("bundling",)
depends_on: str | Sequence[str] | None = ("registry_0001", "partners_0001")


def upgrade() -> None:
    op.create_table(
        "bundle_offer",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("partner_code", sa.String(40), nullable=False),
        sa.Column("product", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("coverage", sa.String(10), nullable=False),
        sa.Column("payer", sa.String(12), nullable=False),
        sa.Column("partner_months", sa.Integer()),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date()),
        sa.Column("area_codes", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_bundle_offer"),
        sa.ForeignKeyConstraint(
            ["partner_code"], ["partner.code"], name="fk_bundle_offer_partner_code_partner"
        ),
        sa.CheckConstraint(
            "product IN ('credit', 'savings', 'insurance', 'ewallet')",
            name="ck_bundle_offer_product",
        ),
        sa.CheckConstraint("coverage IN ('includes', 'requires')", name="ck_bundle_offer_coverage"),
        sa.CheckConstraint(
            "payer IN ('partner', 'participant', 'split')", name="ck_bundle_offer_payer"
        ),
        sa.CheckConstraint(
            "(payer = 'split' AND partner_months >= 1) OR (payer <> 'split' AND partner_months "
            "IS NULL)",
            name="ck_bundle_offer_split_months",
        ),
    )
    op.create_index("ix_bundle_offer_partner_code", "bundle_offer", ["partner_code"])
    op.create_table(
        "bundle_enrolment",
        sa.Column("membership_id", sa.BigInteger(), nullable=False),
        sa.Column("offer_code", sa.String(40), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("membership_id", name="pk_bundle_enrolment"),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["membership.id"],
            name="fk_bundle_enrolment_membership_id_membership",
        ),
        sa.ForeignKeyConstraint(
            ["offer_code"],
            ["bundle_offer.code"],
            name="fk_bundle_enrolment_offer_code_bundle_offer",
        ),
    )
    op.create_index("ix_bundle_enrolment_offer_code", "bundle_enrolment", ["offer_code"])
    op.create_table(
        "bundle_payment_payer",
        sa.Column("payment_id", sa.BigInteger(), nullable=False),
        sa.Column("offer_code", sa.String(40), nullable=False),
        sa.Column("payer", sa.String(12), nullable=False),
        sa.Column("payer_code", sa.String(40)),
        sa.PrimaryKeyConstraint("payment_id", name="pk_bundle_payment_payer"),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name="fk_bundle_payment_payer_payment_id_payment"
        ),
        sa.ForeignKeyConstraint(
            ["offer_code"],
            ["bundle_offer.code"],
            name="fk_bundle_payment_payer_offer_code_bundle_offer",
        ),
        sa.CheckConstraint(
            "payer IN ('partner', 'participant')", name="ck_bundle_payment_payer_payer"
        ),
    )
    op.create_index("ix_bundle_payment_payer_offer_code", "bundle_payment_payer", ["offer_code"])


def downgrade() -> None:
    op.drop_table("bundle_payment_payer")
    op.drop_table("bundle_enrolment")
    op.drop_table("bundle_offer")
