"""integration: idempotent requests, webhook subscriptions, outbox events and deliveries

Revision ID: integration_0001
Revises: foundation_0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cakupan.db import AwareDateTime, BigIntPK

revision: str = "integration_0001"
down_revision: str | Sequence[str] | None = "foundation_0001"
branch_labels: str | Sequence[str] | None = ("integration",)
depends_on: str | Sequence[str] | None = "registry_0001"


def upgrade() -> None:
    op.create_table(
        "idempotent_request",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key", name="pk_idempotent_request"),
    )
    op.create_index("ix_idempotent_request_created_at", "idempotent_request", ["created_at"])
    op.create_table(
        "webhook_subscription",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("partner_code", sa.String(40), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscription"),
    )
    op.create_index(
        "ix_webhook_subscription_partner_code", "webhook_subscription", ["partner_code"]
    )
    op.create_table(
        "webhook_event",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("partner_code", sa.String(40), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("occurred_at", AwareDateTime(), nullable=False),
        sa.Column("dispatched", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_event"),
    )
    op.create_index("ix_webhook_event_partner_code", "webhook_event", ["partner_code"])
    op.create_index("ix_webhook_event_dispatched", "webhook_event", ["dispatched"])
    op.create_table(
        "webhook_delivery",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("subscription_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", AwareDateTime(), nullable=False),
        sa.Column("last_attempt_at", AwareDateTime()),
        sa.Column("last_status_code", sa.Integer()),
        sa.Column("last_error", sa.String(400)),
        sa.Column("delivered_at", AwareDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_delivery"),
        sa.ForeignKeyConstraint(
            ["event_id"], ["webhook_event.id"], name="fk_webhook_delivery_event_id_webhook_event"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name="fk_webhook_delivery_subscription_id_webhook_subscription",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="ck_webhook_delivery_status"
        ),
    )
    op.create_index("ix_webhook_delivery_event_id", "webhook_delivery", ["event_id"])
    op.create_index("ix_webhook_delivery_subscription_id", "webhook_delivery", ["subscription_id"])
    op.create_index(
        "ix_webhook_delivery_status_next_attempt_at",
        "webhook_delivery",
        ["status", "next_attempt_at"],
    )


def downgrade() -> None:
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_event")
    op.drop_table("webhook_subscription")
    op.drop_table("idempotent_request")
