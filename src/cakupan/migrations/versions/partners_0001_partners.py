"""partners: partners and agents, agreements, applications with documents, agent evaluations

Revision ID: partners_0001
Revises: foundation_0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK

revision: str = "partners_0001"
down_revision: str | Sequence[str] | None = "foundation_0001"
branch_labels: str | Sequence[str] | None = ("partners",)
depends_on: str | Sequence[str] | None = None

KINDS = "'wadah', 'perisai', 'korporasi', 'agen46', 'brilink', 'pos_kc', 'pos_regional', 'pemda', 'institution'"


def upgrade() -> None:
    op.create_table(
        "partner",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("parent_code", sa.String(40)),
        sa.Column("branch_code", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text()),
        sa.Column("recruited_on", sa.Date()),
        sa.Column("trained_on", sa.Date()),
        sa.Column("activated_on", sa.Date()),
        sa.Column("terminated_on", sa.Date()),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_partner"),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["partner.code"], name="fk_partner_parent_code_partner"
        ),
        sa.CheckConstraint(f"kind IN ({KINDS})", name="ck_partner_kind"),
        sa.CheckConstraint(
            "status IN ('recruited', 'trained', 'active', 'suspended', 'terminated')",
            name="ck_partner_status",
        ),
        sa.CheckConstraint(
            "parent_code IS NULL OR parent_code <> code", name="ck_partner_not_own_parent"
        ),
    )
    op.create_index("ix_partner_kind", "partner", ["kind"])
    op.create_index("ix_partner_parent_code", "partner", ["parent_code"])
    op.create_index("ix_partner_branch_code", "partner", ["branch_code"])

    op.create_table(
        "partner_agreement",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("partner_code", sa.String(40), nullable=False),
        sa.Column("scheme_name", sa.String(60), nullable=False),
        sa.Column("scheme_version", sa.Integer(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text()),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_partner_agreement"),
        sa.ForeignKeyConstraint(
            ["partner_code"], ["partner.code"], name="fk_partner_agreement_partner_code_partner"
        ),
        sa.UniqueConstraint(
            "partner_code",
            "scheme_name",
            "valid_from",
            name="uq_partner_agreement_partner_code_scheme_name_valid_from",
        ),
        sa.CheckConstraint(
            "status IN ('active', 'terminated')", name="ck_partner_agreement_status"
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name="ck_partner_agreement_dates"
        ),
    )
    op.create_index("ix_partner_agreement_partner_code", "partner_agreement", ["partner_code"])

    op.create_table(
        "partner_application",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("parent_code", sa.String(40)),
        sa.Column("branch_code", sa.String(10), nullable=False),
        sa.Column("scheme_name", sa.String(60), nullable=False),
        sa.Column("scheme_version", sa.Integer(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("submitted_at", AwareDateTime(), nullable=False),
        sa.Column("submitted_by", sa.String(120), nullable=False),
        sa.Column("review_note", sa.Text()),
        sa.Column("reviewed_by", sa.String(120)),
        sa.Column("reviewed_at", AwareDateTime()),
        sa.Column("decision_reason", sa.Text()),
        sa.Column("decided_by", sa.String(120)),
        sa.Column("decided_at", AwareDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_partner_application"),
        sa.CheckConstraint(
            "status IN ('submitted', 'in_review', 'approved', 'rejected')",
            name="ck_partner_application_status",
        ),
    )
    op.create_index("ix_partner_application_code", "partner_application", ["code"])
    op.create_index("ix_partner_application_status", "partner_application", ["status"])

    op.create_table(
        "partner_document",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("application_id", BigIntPK, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("file_reference", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("added_at", AwareDateTime(), nullable=False),
        sa.Column("added_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_partner_document"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["partner_application.id"],
            name="fk_partner_document_application_id_partner_application",
        ),
        sa.UniqueConstraint(
            "application_id", "sha256", name="uq_partner_document_application_id_sha256"
        ),
        sa.CheckConstraint(
            "kind IN ('legal', 'ecosystem_profile', 'potential_analysis', 'other')",
            name="ck_partner_document_kind",
        ),
    )
    op.create_index("ix_partner_document_application_id", "partner_document", ["application_id"])

    op.create_table(
        "agent_evaluation",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("partner_code", sa.String(40), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("notes", sa.Text()),
        sa.Column("evaluator", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agent_evaluation"),
        sa.ForeignKeyConstraint(
            ["partner_code"], ["partner.code"], name="fk_agent_evaluation_partner_code_partner"
        ),
        sa.UniqueConstraint(
            "partner_code", "period_to", name="uq_agent_evaluation_partner_code_period_to"
        ),
        sa.CheckConstraint(
            "outcome IN ('continue', 'improve', 'terminate')", name="ck_agent_evaluation_outcome"
        ),
    )
    op.create_index("ix_agent_evaluation_partner_code", "agent_evaluation", ["partner_code"])
    op.create_index("ix_agent_evaluation_evaluated_on", "agent_evaluation", ["evaluated_on"])


def downgrade() -> None:
    op.drop_table("agent_evaluation")
    op.drop_table("partner_document")
    op.drop_table("partner_application")
    op.drop_table("partner_agreement")
    op.drop_table("partner")
