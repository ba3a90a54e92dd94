"""dashboard: the retention workbench's contact outcomes and follow-up date (issue 15)

Revision ID: dashboard_0003
Revises: dashboard_0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dashboard_0003"
down_revision: str | Sequence[str] | None = "dashboard_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "outcome IN ('called', 'visited', 'promised_to_pay', 'refused')"
# Spelled out (not imported) so that this revision keeps meaning what it meant when written.
_NEW = (
    "outcome IN ('called', 'visited', 'promised_to_pay', 'refused', "
    "'no_answer', 'wrong_number', 'already_paid', 'call_back')"
)


def upgrade() -> None:
    # batch mode: SQLite cannot alter a CHECK constraint in place (the table is copied).
    with op.batch_alter_table("contact_action", recreate="auto") as batch:
        batch.drop_constraint("ck_contact_action_outcome", type_="check")
        batch.create_check_constraint("ck_contact_action_outcome", _NEW)
        batch.add_column(sa.Column("follow_up_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact_action", recreate="auto") as batch:
        batch.drop_column("follow_up_on")
        batch.drop_constraint("ck_contact_action_outcome", type_="check")
        batch.create_check_constraint("ck_contact_action_outcome", _OLD)
