"""integration: webhook subscriptions belong to the partner (issue 21): those an agent's
credentials created are deactivated (an agent's read scope is narrower than its partner's
events; from now on only partner credentials subscribe)

Revision ID: integration_0002
Revises: integration_0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "integration_0002"
down_revision: str | Sequence[str] | None = "integration_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if "user" not in sa.inspect(op.get_bind()).get_table_names():
        return  # no users yet (a new database): no subscription an agent created
    user = sa.table("user", sa.column("username", sa.String), sa.column("role", sa.String))
    subscription = sa.table(
        "webhook_subscription", sa.column("created_by", sa.String), sa.column("active", sa.Boolean)
    )
    agents = sa.select(user.c.username).where(user.c.role == "agent")
    op.execute(
        subscription.update()
        .where(subscription.c.created_by.in_(agents), subscription.c.active.is_(True))
        .values(active=False)
    )


def downgrade() -> None:
    """Nothing to undo: the deactivated subscriptions stay inactive."""
