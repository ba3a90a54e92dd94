"""users: sessions ended server-side (sign-out revokes the cookie, issue 21)

Revision ID: users_0002
Revises: users_0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK

revision: str = "users_0002"
down_revision: str | Sequence[str] | None = "users_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revoked_session",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("user_id", BigIntPK, nullable=False),
        sa.Column("revoked_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name="fk_revoked_session_user_id_user",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name="pk_revoked_session"),
    )
    op.create_index("ix_revoked_session_user_id", "revoked_session", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_revoked_session_user_id", table_name="revoked_session")
    op.drop_table("revoked_session")
