"""dashboard: participants (accounts) assigned to account representatives (ar / ark)

Revision ID: dashboard_0002
Revises: dashboard_0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime

revision: str = "dashboard_0002"
down_revision: str | Sequence[str] | None = "dashboard_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "registry_0001"


# user_id has no foreign key to ``user``: that table is the head of the separate users chain, and
# a dependency on a head would merge it away from the version table. Users are never deleted
# (only deactivated), and the assignment actions look the user up first.


def upgrade() -> None:
    op.create_table(
        "account_assignment",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("assigned_at", AwareDateTime(), nullable=False),
        sa.Column("assigned_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "participant_id", name="pk_account_assignment"),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name="fk_account_assignment_participant_id_participant",
        ),
    )
    op.create_index(
        "ix_account_assignment_participant_id", "account_assignment", ["participant_id"]
    )


def downgrade() -> None:
    op.drop_table("account_assignment")
