"""targets: which source's figure counts when sources disagree (issue 17)

Revision ID: targets_0003
Revises: targets_0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK

revision: str = "targets_0003"
down_revision: str | Sequence[str] | None = "targets_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "target_choice",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("cell_id", _ID, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("chosen_by", sa.String(120), nullable=False),
        sa.Column("chosen_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_target_choice"),
        sa.ForeignKeyConstraint(
            ["cell_id"], ["target_cell.id"], name="fk_target_choice_cell_id_target_cell"
        ),
        sa.UniqueConstraint("cell_id", "kind", name="uq_target_choice_cell_kind"),
        sa.CheckConstraint("kind IN ('target', 'realization')", name="ck_target_choice_kind"),
    )
    op.create_index("ix_target_choice_cell_id", "target_choice", ["cell_id"])


def downgrade() -> None:
    op.drop_index("ix_target_choice_cell_id", table_name="target_choice")
    op.drop_table("target_choice")
