"""registry: occupations, participants, terms and changes, memberships, payment codes, payments,
reversals, covered months, import batches

Revision ID: registry_0001
Revises: foundation_0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK, MonthType

revision: str = "registry_0001"
down_revision: str | Sequence[str] | None = "foundation_0001"
branch_labels: str | Sequence[str] | None = ("registry",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "occupation",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name_id", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_occupation"),
    )

    op.create_table(
        "participant",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("nik", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("phone", sa.String(30), nullable=False),
        sa.Column("email", sa.String(200)),
        sa.Column("village_code", sa.String(20)),
        sa.Column("district_code", sa.String(20)),
        sa.Column("regency_code", sa.String(20)),
        sa.Column("branch_code", sa.String(40)),
        sa.Column("occupation", sa.String(40), nullable=False),
        sa.Column("reported_income", sa.BigInteger(), nullable=False),
        sa.Column("programs", sa.String(12), nullable=False),
        sa.Column("sector", sa.String(12), nullable=False),
        sa.Column("funding", sa.String(8), nullable=False),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("partner_code", sa.String(40)),
        sa.Column("agent_code", sa.String(40)),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_participant"),
        sa.UniqueConstraint("nik", name="uq_participant_nik"),
        sa.ForeignKeyConstraint(
            ["occupation"], ["occupation.code"], name="fk_participant_occupation_occupation"
        ),
        sa.CheckConstraint("sex IN ('M', 'F')", name="ck_participant_sex"),
        sa.CheckConstraint(
            "programs IN ('JKK+JKM', 'JKK+JKM+JHT')", name="ck_participant_programs"
        ),
        sa.CheckConstraint("sector IN ('transport', 'other')", name="ck_participant_sector"),
        sa.CheckConstraint("funding IN ('self', 'apbn', 'apbd')", name="ck_participant_funding"),
        sa.CheckConstraint(
            "channel IN ('branch', 'online', 'agent', 'partner')", name="ck_participant_channel"
        ),
        sa.CheckConstraint("reported_income >= 0", name="ck_participant_reported_income"),
    )
    op.create_index("ix_participant_branch_code", "participant", ["branch_code"])
    op.create_index("ix_participant_partner_code", "participant", ["partner_code"])
    op.create_index("ix_participant_agent_code", "participant", ["agent_code"])
    op.create_index("ix_participant_registered_on", "participant", ["registered_on"])

    op.create_table(
        "participant_terms",
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("effective_month", MonthType(), nullable=False),
        sa.Column("reported_income", sa.BigInteger(), nullable=False),
        sa.Column("programs", sa.String(12), nullable=False),
        sa.Column("sector", sa.String(12), nullable=False),
        sa.Column("funding", sa.String(8), nullable=False),
        sa.Column("recorded_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("participant_id", "effective_month", name="pk_participant_terms"),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name="fk_participant_terms_participant_id_participant",
        ),
    )

    op.create_table(
        "participant_change",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("effective_month", MonthType(), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("old_value", sa.String(400)),
        sa.Column("new_value", sa.String(400)),
        sa.Column("recorded_at", AwareDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_participant_change"),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name="fk_participant_change_participant_id_participant",
        ),
    )
    op.create_index(
        "ix_participant_change_participant_id", "participant_change", ["participant_id"]
    )

    op.create_table(
        "membership",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("episode_no", sa.Integer(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("start_month", MonthType(), nullable=False),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("partner_code", sa.String(40)),
        sa.Column("agent_code", sa.String(40)),
        sa.Column("card_number", sa.String(32)),
        sa.Column("first_paid_on", sa.Date()),
        sa.Column("last_paid_on", sa.Date()),
        sa.Column("paid_through_month", MonthType()),
        sa.Column("months_paid", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_membership"),
        sa.UniqueConstraint(
            "participant_id", "episode_no", name="uq_membership_participant_id_episode_no"
        ),
        sa.UniqueConstraint("card_number", name="uq_membership_card_number"),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name="fk_membership_participant_id_participant"
        ),
    )
    op.create_index("ix_membership_start_month", "membership", ["start_month"])
    op.create_index("ix_membership_partner_code", "membership", ["partner_code"])
    op.create_index("ix_membership_agent_code", "membership", ["agent_code"])
    op.create_index("ix_membership_paid_through_month", "membership", ["paid_through_month"])

    op.create_table(
        "import_batch",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("file_name", sa.String(400), nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("at", AwareDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_import_batch"),
    )
    op.create_index("ix_import_batch_file_hash", "import_batch", ["file_hash"])

    op.create_table(
        "payment",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(80), nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("membership_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("first_month", MonthType(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("partner_code", sa.String(40)),
        sa.Column("agent_code", sa.String(40)),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("posted_at", AwareDateTime(), nullable=False),
        sa.Column("batch_id", sa.BigInteger()),
        sa.PrimaryKeyConstraint("id", name="pk_payment"),
        sa.UniqueConstraint("channel", "reference", name="uq_payment_channel_reference"),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name="fk_payment_participant_id_participant"
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"], ["membership.id"], name="fk_payment_membership_id_membership"
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.id"], name="fk_payment_batch_id_import_batch"
        ),
        sa.CheckConstraint("months BETWEEN 1 AND 12", name="ck_payment_months"),
        sa.CheckConstraint("amount > 0", name="ck_payment_amount"),
    )
    op.create_index("ix_payment_participant_id", "payment", ["participant_id"])
    op.create_index("ix_payment_membership_id", "payment", ["membership_id"])
    op.create_index("ix_payment_paid_on", "payment", ["paid_on"])
    op.create_index("ix_payment_partner_code", "payment", ["partner_code"])
    op.create_index("ix_payment_agent_code", "payment", ["agent_code"])
    op.create_index("ix_payment_batch_id", "payment", ["batch_id"])

    op.create_table(
        "payment_code",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("membership_id", sa.BigInteger(), nullable=False),
        sa.Column("first_month", MonthType(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", AwareDateTime(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("payment_id", sa.BigInteger()),
        sa.PrimaryKeyConstraint("id", name="pk_payment_code"),
        sa.UniqueConstraint("code", name="uq_payment_code_code"),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name="fk_payment_code_participant_id_participant",
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"], ["membership.id"], name="fk_payment_code_membership_id_membership"
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name="fk_payment_code_payment_id_payment"
        ),
    )
    op.create_index("ix_payment_code_participant_id", "payment_code", ["participant_id"])

    op.create_table(
        "payment_reversal",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("payment_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.Column("reversed_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", AwareDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payment_reversal"),
        sa.UniqueConstraint("payment_id", name="uq_payment_reversal_payment_id"),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name="fk_payment_reversal_payment_id_payment"
        ),
    )

    op.create_table(
        "covered_month",
        sa.Column("payment_id", sa.BigInteger(), nullable=False),
        sa.Column("month", MonthType(), nullable=False),
        sa.Column("membership_id", sa.BigInteger(), nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reversed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("payment_id", "month", name="pk_covered_month"),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payment.id"], name="fk_covered_month_payment_id_payment"
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"], ["membership.id"], name="fk_covered_month_membership_id_membership"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name="fk_covered_month_participant_id_participant",
        ),
    )
    op.create_index(
        "uq_covered_month_membership_id_month",
        "covered_month",
        ["membership_id", "month"],
        unique=True,
        sqlite_where=sa.text("NOT reversed"),
        postgresql_where=sa.text("NOT reversed"),
    )
    op.create_index("ix_covered_month_participant_id", "covered_month", ["participant_id"])
    op.create_index("ix_covered_month_month", "covered_month", ["month"])


def downgrade() -> None:
    for table in (
        "covered_month",
        "payment_reversal",
        "payment_code",
        "payment",
        "import_batch",
        "membership",
        "participant_change",
        "participant_terms",
        "participant",
        "occupation",
    ):
        op.drop_table(table)
