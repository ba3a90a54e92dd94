"""targets: achievement percentages as sources state them

Revision ID: targets_0002
Revises: targets_0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK

revision: str = "targets_0002"
down_revision: str | Sequence[str] | None = "targets_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "target_stated_achievement",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("cell_id", _ID, nullable=False),
        sa.Column("percent", sa.String(12), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("import_id", _ID),
        sa.Column("recorded_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_target_stated_achievement"),
        sa.ForeignKeyConstraint(
            ["cell_id"], ["target_cell.id"], name="fk_target_stated_achievement_cell_id_target_cell"
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["target_import.id"],
            name="fk_target_stated_achievement_import_id_target_import",
        ),
        sa.UniqueConstraint("cell_id", "source", name="uq_target_stated_achievement_cell_source"),
    )
    op.create_index(
        "ix_target_stated_achievement_cell_id", "target_stated_achievement", ["cell_id"]
    )


def downgrade() -> None:
    op.drop_table("target_stated_achievement")
