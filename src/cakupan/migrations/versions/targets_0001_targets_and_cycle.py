"""targets: target/realization figures, splits, plans, execution log, weekly reviews

Revision ID: targets_0001
Revises: foundation_0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK, MonthType

revision: str = "targets_0001"
down_revision: str | Sequence[str] | None = "foundation_0001"
branch_labels: str | Sequence[str] | None = ("targets",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "target_cell",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("office_code", sa.String(20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("first_month", MonthType(), nullable=False),
        sa.Column("last_month", MonthType(), nullable=False),
        sa.Column("segment", sa.String(10), nullable=False),
        sa.Column("metric", sa.String(30), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_target_cell"),
        sa.UniqueConstraint(
            "office_code", "first_month", "last_month", "segment", "metric", name="uq_target_cell"
        ),
        sa.CheckConstraint("first_month <= last_month", name="ck_target_cell_month_order"),
        sa.CheckConstraint("segment IN ('BPU', 'PU', 'JAKON')", name="ck_target_cell_segment"),
        sa.CheckConstraint(
            "metric IN ('new_participants', 'active_participants', 'contributions', 'reacquired')",
            name="ck_target_cell_metric",
        ),
    )
    op.create_index("ix_target_cell_office_code", "target_cell", ["office_code"])

    op.create_table(
        "target_import",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("imported_at", AwareDateTime(), nullable=False),
        sa.Column("imported_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_target_import"),
    )
    op.create_index("ix_target_import_sha256", "target_import", ["sha256"])

    op.create_table(
        "target_figure",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("cell_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
        sa.Column("recorded_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_target_figure"),
        sa.ForeignKeyConstraint(
            ["cell_id"], ["target_cell.id"], name="fk_target_figure_cell_id_target_cell"
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["target_import.id"], name="fk_target_figure_import_id_target_import"
        ),
        sa.UniqueConstraint("cell_id", "kind", "source", name="uq_target_figure_cell_kind_source"),
        sa.CheckConstraint("kind IN ('target', 'realization')", name="ck_target_figure_kind"),
        sa.CheckConstraint("value >= 0", name="ck_target_figure_value_not_negative"),
    )
    op.create_index("ix_target_figure_cell_id", "target_figure", ["cell_id"])
    op.create_index("ix_target_figure_import_id", "target_figure", ["import_id"])

    op.create_table(
        "target_split",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("cell_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("part_kind", sa.String(10), nullable=False),
        sa.Column("part_code", sa.String(40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_target_split"),
        sa.ForeignKeyConstraint(
            ["cell_id"], ["target_cell.id"], name="fk_target_split_cell_id_target_cell"
        ),
        sa.UniqueConstraint("cell_id", "part_kind", "part_code", name="uq_target_split_part"),
        sa.CheckConstraint(
            "part_kind IN ('staff', 'partner', 'district')", name="ck_target_split_part_kind"
        ),
        sa.CheckConstraint("value >= 0", name="ck_target_split_value_not_negative"),
    )
    op.create_index("ix_target_split_cell_id", "target_split", ["cell_id"])

    op.create_table(
        "performance_plan",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("office_code", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_performance_plan"),
        sa.UniqueConstraint("office_code", "kind", "first_day", name="uq_performance_plan_period"),
        sa.CheckConstraint("kind IN ('week', 'month')", name="ck_performance_plan_kind"),
        sa.CheckConstraint("first_day <= last_day", name="ck_performance_plan_day_order"),
    )
    op.create_index("ix_performance_plan_office_code", "performance_plan", ["office_code"])

    op.create_table(
        "plan_activity",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("activity", sa.String(40), nullable=False),
        sa.Column("district_code", sa.String(20), nullable=False),
        sa.Column("village_code", sa.String(20)),
        sa.Column("segment", sa.String(10), nullable=False),
        sa.Column("prospects", sa.String(200), nullable=False),
        sa.Column("assignee_kind", sa.String(10), nullable=False),
        sa.Column("assignee_code", sa.String(40), nullable=False),
        sa.Column("scheduled_on", sa.Date()),
        sa.Column("expected_registrations", sa.Integer(), nullable=False),
        sa.Column("expected_contributions", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plan_activity"),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["performance_plan.id"], name="fk_plan_activity_plan_id_performance_plan"
        ),
        sa.CheckConstraint(
            "assignee_kind IN ('staff', 'agent', 'partner')", name="ck_plan_activity_assignee_kind"
        ),
        sa.CheckConstraint("segment IN ('BPU', 'PU', 'JAKON')", name="ck_plan_activity_segment"),
        sa.CheckConstraint(
            "expected_registrations >= 0", name="ck_plan_activity_expected_registrations"
        ),
        sa.CheckConstraint(
            "expected_contributions >= 0", name="ck_plan_activity_expected_contributions"
        ),
    )
    op.create_index("ix_plan_activity_plan_id", "plan_activity", ["plan_id"])

    op.create_table(
        "execution_entry",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("office_code", sa.String(20), nullable=False),
        sa.Column("activity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("assignee_kind", sa.String(10), nullable=False),
        sa.Column("assignee_code", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("nik", sa.String(16)),
        sa.Column("note", sa.Text()),
        sa.Column("recorded_at", AwareDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_execution_entry"),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["plan_activity.id"],
            name="fk_execution_entry_activity_id_plan_activity",
        ),
        sa.CheckConstraint(
            "kind IN ('visit', 'contact', 'letter', 'new_business', 'registration')",
            name="ck_execution_entry_kind",
        ),
        sa.CheckConstraint(
            "assignee_kind IN ('staff', 'agent', 'partner')",
            name="ck_execution_entry_assignee_kind",
        ),
        sa.CheckConstraint("quantity > 0", name="ck_execution_entry_quantity_positive"),
    )
    op.create_index("ix_execution_entry_office_code", "execution_entry", ["office_code"])
    op.create_index("ix_execution_entry_activity_id", "execution_entry", ["activity_id"])
    op.create_index("ix_execution_entry_done_on", "execution_entry", ["done_on"])
    op.create_index("ix_execution_entry_nik", "execution_entry", ["nik"])

    op.create_table(
        "weekly_review",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("office_code", sa.String(20), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("led_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_weekly_review"),
        sa.UniqueConstraint("office_code", "week_start", name="uq_weekly_review_week"),
    )
    op.create_index("ix_weekly_review_office_code", "weekly_review", ["office_code"])

    op.create_table(
        "review_note",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column(
            "review_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_review_note"),
        sa.ForeignKeyConstraint(
            ["review_id"], ["weekly_review.id"], name="fk_review_note_review_id_weekly_review"
        ),
        sa.CheckConstraint(
            "kind IN ('problem', 'solution', 'decision')", name="ck_review_note_kind"
        ),
    )
    op.create_index("ix_review_note_review_id", "review_note", ["review_id"])

    op.create_table(
        "review_action",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("office_code", sa.String(20), nullable=False),
        sa.Column(
            "raised_in_review_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_code", sa.String(40), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("closed_in_review_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
        sa.Column("closed_on", sa.Date()),
        sa.Column("resolution", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_review_action"),
        sa.ForeignKeyConstraint(
            ["raised_in_review_id"],
            ["weekly_review.id"],
            name="fk_review_action_raised_in_review_id_weekly_review",
        ),
        sa.ForeignKeyConstraint(
            ["closed_in_review_id"],
            ["weekly_review.id"],
            name="fk_review_action_closed_in_review_id_weekly_review",
        ),
    )
    op.create_index("ix_review_action_office_code", "review_action", ["office_code"])
    op.create_index(
        "ix_review_action_raised_in_review_id", "review_action", ["raised_in_review_id"]
    )


def downgrade() -> None:
    for table in (
        "review_action",
        "review_note",
        "weekly_review",
        "execution_entry",
        "plan_activity",
        "performance_plan",
        "target_split",
        "target_figure",
        "target_import",
        "target_cell",
    ):
        op.drop_table(table)
