"""Tables of the partner integration API (issue 9): stored idempotent responses, webhook
subscriptions, the outbox of events (written in the business transaction) and deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.db import AwareDateTime, Base, BigIntPK

#: Delivery states: waiting for (another) attempt, delivered (2xx), or given up.
DELIVERY_STATUSES: tuple[str, ...] = ("pending", "delivered", "failed")


class IdempotentRequest(Base):
    """The stored response of a request made with an ``Idempotency-Key`` by one API client.

    Written in the same transaction as the business write it answers, so a key is either absent
    (nothing happened; a retry runs the request) or present with the original response."""

    __tablename__ = "idempotent_request"
    __table_args__ = (PrimaryKeyConstraint("user_id", "key"),)

    user_id: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), index=True)


class WebhookSubscription(Base):
    """Where a partner wants its events: URL, the shared HMAC secret, the event types."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    partner_code: Mapped[str] = mapped_column(String(40), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(120))


class WebhookEvent(Base):
    """One business event for one partner (the outbox). ``dispatched`` turns true once the worker
    has made a delivery per matching subscription."""

    __tablename__ = "webhook_event"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    partner_code: Mapped[str] = mapped_column(String(40), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(AwareDateTime())
    dispatched: Mapped[bool] = mapped_column(
        Boolean, server_default=false(), default=False, index=True
    )


class WebhookDelivery(Base):
    """The delivery of one event to one subscription: attempts, back-off, last outcome."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
        Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("webhook_event.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_subscription.id"), index=True
    )
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(AwareDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(400))
    delivered_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
