"""reminders: consent and opt-out, the reminder outbox, experiments

Revision ID: reminders_0001
Revises: foundation_0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK

revision: str = "reminders_0001"
down_revision: str | Sequence[str] | None = "foundation_0001"
branch_labels: str | Sequence[str] | None = ("reminders",)
depends_on: str | Sequence[str] | None = "registry_0001"


def upgrade() -> None:
    op.create_table(
        "reminder_preference",
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(12), nullable=True),
        sa.Column("consent_at", AwareDateTime(), nullable=True),
        sa.Column("consent_source", sa.String(40), nullable=True),
        sa.Column("opted_out_at", AwareDateTime(), nullable=True),
        sa.Column("opted_out_source", sa.String(40), nullable=True),
        sa.Column("updated_at", AwareDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("participant_id", name="pk_reminder_preference"),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name="fk_reminder_preference_participant_id_participant",
        ),
    )
    op.create_table(
        "reminder",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("dedupe_key", sa.String(120), nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("membership_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("month", sa.Integer(), nullable=True),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("payment_code", sa.String(32), nullable=True),
        sa.Column("planned_for", sa.Date(), nullable=False),
        sa.Column("send_after", AwareDateTime(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("experiment_id", sa.BigInteger(), nullable=True),
        sa.Column("arm", sa.String(40), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", AwareDateTime(), nullable=False),
        sa.Column("last_error", sa.String(400), nullable=True),
        sa.Column("provider_id", sa.String(80), nullable=True),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("sent_at", AwareDateTime(), nullable=True),
        sa.Column("delivered_at", AwareDateTime(), nullable=True),
        sa.Column("read_at", AwareDateTime(), nullable=True),
        sa.Column("finished_reason", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reminder"),
        sa.UniqueConstraint("dedupe_key", name="uq_reminder_dedupe_key"),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name="fk_reminder_participant_id_participant"
        ),
    )
    op.create_index("ix_reminder_status_next_attempt_at", "reminder", ["status", "next_attempt_at"])
    op.create_index(
        "ix_reminder_participant_id_planned_for", "reminder", ["participant_id", "planned_for"]
    )
    op.create_index("ix_reminder_provider_id", "reminder", ["provider_id"])
    op.create_table(
        "reminder_experiment",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("arms", sa.JSON(), nullable=False),
        sa.Column("holdout_share", sa.Float(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reminder_experiment"),
        sa.UniqueConstraint("name", name="uq_reminder_experiment_name"),
    )


def downgrade() -> None:
    op.drop_table("reminder_experiment")
    op.drop_table("reminder")
    op.drop_table("reminder_preference")
