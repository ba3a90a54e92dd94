"""dashboard: KPI pre-aggregates (kpi_monthly, kpi_cohort) and the contact action log

Revision ID: dashboard_0001
Revises: foundation_0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK, MonthType

revision: str = "dashboard_0001"
down_revision: str | Sequence[str] | None = "foundation_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "registry_0001"


def _dimensions() -> list[sa.Column[object]]:
    return [
        sa.Column("branch_code", sa.String(40)),
        sa.Column("partner_code", sa.String(40)),
        sa.Column("agent_code", sa.String(40)),
        sa.Column("league_partner", sa.String(40)),
        sa.Column("channel", sa.String(12)),
        sa.Column("occupation", sa.String(40)),
        sa.Column("programs", sa.String(12)),
    ]


def upgrade() -> None:
    op.create_table(
        "kpi_monthly",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("grain", sa.Integer(), nullable=False),
        sa.Column("month", MonthType(), nullable=False),
        *_dimensions(),
        sa.Column("registrations", sa.Integer(), nullable=False),
        sa.Column("reacquired", sa.Integer(), nullable=False),
        sa.Column("closed_by_system", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("arrears", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("contributions", sa.BigInteger(), nullable=False),
        sa.Column("payments", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kpi_monthly"),
    )
    op.create_index("ix_kpi_monthly_grain_month", "kpi_monthly", ["grain", "month"])
    op.create_index(
        "ix_kpi_monthly_partner_code_grain_month", "kpi_monthly", ["partner_code", "grain", "month"]
    )
    op.create_index(
        "ix_kpi_monthly_agent_code_grain_month", "kpi_monthly", ["agent_code", "grain", "month"]
    )
    op.create_table(
        "kpi_cohort",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("grain", sa.Integer(), nullable=False),
        sa.Column("cohort_month", MonthType(), nullable=False),
        sa.Column("age", sa.Integer(), nullable=False),
        *_dimensions(),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("paying", sa.Integer(), nullable=False),
        sa.Column("first_paid", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kpi_cohort"),
        sa.CheckConstraint("age BETWEEN 0 AND 12", name="ck_kpi_cohort_age"),
    )
    op.create_index("ix_kpi_cohort_grain_cohort_month", "kpi_cohort", ["grain", "cohort_month"])
    op.create_index(
        "ix_kpi_cohort_partner_code_grain_cohort_month",
        "kpi_cohort",
        ["partner_code", "grain", "cohort_month"],
    )
    op.create_index(
        "ix_kpi_cohort_agent_code_grain_cohort_month",
        "kpi_cohort",
        ["agent_code", "grain", "cohort_month"],
    )
    op.create_table(
        "contact_action",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(400)),
        sa.Column("promised_on", sa.Date()),
        sa.Column("note", sa.String(400)),
        sa.Column("at", AwareDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_action"),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name="fk_contact_action_participant_id_participant",
        ),
        sa.CheckConstraint(
            "outcome IN ('called', 'visited', 'promised_to_pay', 'refused')",
            name="ck_contact_action_outcome",
        ),
    )
    op.create_index("ix_contact_action_participant_id", "contact_action", ["participant_id"])


def downgrade() -> None:
    op.drop_table("contact_action")
    op.drop_table("kpi_cohort")
    op.drop_table("kpi_monthly")
