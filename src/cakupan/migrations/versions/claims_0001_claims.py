"""claims: claims, workflow steps, documents, agency days off

Revision ID: claims_0001
Revises: foundation_0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK

revision: str = "claims_0001"
down_revision: str | Sequence[str] | None = "foundation_0001"
branch_labels: str | Sequence[str] | None = ("claims",)
depends_on: str | Sequence[str] | None = "registry_0001"

_FK_INT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_LIVE_DEATH = "death_group IS NOT NULL AND state <> 'rejected'"


def upgrade() -> None:
    op.create_table(
        "claim",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("claim_type", sa.String(3), nullable=False),
        sa.Column("cause", sa.String(12)),
        sa.Column("jht_reason", sa.String(30)),
        sa.Column("death_group", sa.String(12)),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("amount", sa.BigInteger()),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("claimant_name", sa.String(200), nullable=False),
        sa.Column("claimant_nik", sa.String(16), nullable=False),
        sa.Column("relation", sa.String(20), nullable=False),
        sa.Column("bank_name", sa.String(40), nullable=False),
        sa.Column("bank_account", sa.String(30), nullable=False),
        sa.Column("bank_account_holder", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("branch_code", sa.String(20)),
        sa.Column("partner_code", sa.String(20)),
        sa.Column("agent_code", sa.String(20)),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("submitted_by", sa.String(120), nullable=False),
        sa.Column("verified_on", sa.Date()),
        sa.Column("approved_on", sa.Date()),
        sa.Column("rejected_on", sa.Date()),
        sa.Column("rejection_reason", sa.String(500)),
        sa.Column("paid_on", sa.Date()),
        sa.Column("payment_reference", sa.String(80)),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_claim"),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name="fk_claim_participant_id_participant"
        ),
        sa.UniqueConstraint("payment_reference", name="uq_claim_payment_reference"),
        sa.CheckConstraint("claim_type IN ('jht', 'jkm', 'jkk')", name="ck_claim_claim_type"),
        sa.CheckConstraint(
            "state IN ('submitted', 'verified', 'approved', 'rejected', 'paid')",
            name="ck_claim_state",
        ),
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name="ck_claim_amount"),
    )
    op.create_index("ix_claim_participant_id", "claim", ["participant_id"])
    op.create_index("ix_claim_branch_code", "claim", ["branch_code"])
    op.create_index("ix_claim_partner_code", "claim", ["partner_code"])
    op.create_index("ix_claim_agent_code", "claim", ["agent_code"])
    op.create_index("ix_claim_paid_on", "claim", ["paid_on"])
    op.create_index("ix_claim_state", "claim", ["state"])
    op.create_index(
        "uq_claim_death",
        "claim",
        ["participant_id", "death_group"],
        unique=True,
        sqlite_where=sa.text(_LIVE_DEATH),
        postgresql_where=sa.text(_LIVE_DEATH),
    )

    op.create_table(
        "claim_step",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("claim_id", _FK_INT, nullable=False),
        sa.Column("from_state", sa.String(12)),
        sa.Column("to_state", sa.String(12), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("at", AwareDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("note", sa.String(500)),
        sa.PrimaryKeyConstraint("id", name="pk_claim_step"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], name="fk_claim_step_claim_id_claim"),
    )
    op.create_index("ix_claim_step_claim_id", "claim_step", ["claim_id"])

    op.create_table(
        "claim_document",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("claim_id", _FK_INT, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", AwareDateTime(), nullable=False),
        sa.Column("uploaded_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_claim_document"),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name="fk_claim_document_claim_id_claim"
        ),
        sa.UniqueConstraint("claim_id", "kind", name="uq_claim_document_claim_id_kind"),
        sa.CheckConstraint("size > 0", name="ck_claim_document_size"),
    )
    op.create_index("ix_claim_document_claim_id", "claim_document", ["claim_id"])

    op.create_table(
        "claim_calendar_day_off",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("added_at", AwareDateTime(), nullable=False),
        sa.Column("added_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_claim_calendar_day_off"),
    )


def downgrade() -> None:
    op.drop_table("claim_calendar_day_off")
    op.drop_index("ix_claim_document_claim_id", table_name="claim_document")
    op.drop_table("claim_document")
    op.drop_index("ix_claim_step_claim_id", table_name="claim_step")
    op.drop_table("claim_step")
    op.drop_index("uq_claim_death", table_name="claim")
    for name in ("state", "paid_on", "agent_code", "partner_code", "branch_code", "participant_id"):
        op.drop_index(f"ix_claim_{name}", table_name="claim")
    op.drop_table("claim")
