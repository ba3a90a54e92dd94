"""registry: drop ledger indexes no query uses (faster payment posting and imports)

``payment.partner_code``, ``payment.agent_code`` and ``payment.batch_id`` are never searched by
value (partner and agent figures group by ``coalesce(agent_code, partner_code)`` over a
``paid_on`` range, which these indexes cannot serve), and ``covered_month.participant_id`` is
never a search condition (covered months are found by payment, by episode and month, or by
month). Each index cost every posted payment or covered month one more B-tree insert.

Revision ID: registry_0003_ledger_indexes
Revises: registry_0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "registry_0003_ledger_indexes"
down_revision: str | Sequence[str] | None = "registry_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DROPPED = (
    ("ix_payment_partner_code", "payment", "partner_code"),
    ("ix_payment_agent_code", "payment", "agent_code"),
    ("ix_payment_batch_id", "payment", "batch_id"),
    ("ix_covered_month_participant_id", "covered_month", "participant_id"),
)


def upgrade() -> None:
    for name, table, _ in _DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, column in _DROPPED:
        op.create_index(name, table, [column])
