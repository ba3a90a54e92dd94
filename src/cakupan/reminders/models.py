"""Tables of the reminders (issue 16): each participant's consent and opt-out, and the outbox
of reminder messages with their delivery status. The phone number is not copied into the
outbox: it is read from the participant when a message is sent, and never logged."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.dates import Month
from cakupan.db import AwareDateTime, Base, BigIntPK, MonthType

#: Delivery statuses, in the only order they may move (failed and cancelled are final).
STATUSES = ("queued", "sent", "delivered", "read", "failed", "cancelled")
KINDS = ("due_before", "unpaid_code", "arrears", "reacquire")
CHANNELS = ("whatsapp", "sms")


class ReminderPreference(Base):
    """A participant's reminder channel, consent and opt-out (a STOP reply or staff)."""

    __tablename__ = "reminder_preference"

    participant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("participant.id"), primary_key=True
    )
    channel: Mapped[str | None] = mapped_column(String(12))
    consent_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    consent_source: Mapped[str | None] = mapped_column(String(40))
    opted_out_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    opted_out_source: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())
    updated_by: Mapped[str] = mapped_column(String(120))


class Reminder(Base):
    """One reminder message in the outbox. ``dedupe_key`` names the due it is about (kind,
    participant or code, month, step): unique, so the same reminder is never queued twice."""

    __tablename__ = "reminder"
    __table_args__ = (
        Index("ix_reminder_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_reminder_participant_id_planned_for", "participant_id", "planned_for"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    participant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("participant.id"))
    membership_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(12))
    month: Mapped[Month | None] = mapped_column(MonthType())
    months: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    payment_code: Mapped[str | None] = mapped_column(String(32))
    planned_for: Mapped[date] = mapped_column(Date)
    send_after: Mapped[datetime] = mapped_column(AwareDateTime())
    body: Mapped[str] = mapped_column(Text)
    experiment_id: Mapped[int | None] = mapped_column(BigInteger)
    arm: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(AwareDateTime())
    last_error: Mapped[str | None] = mapped_column(String(400))
    provider_id: Mapped[str | None] = mapped_column(String(80), index=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    read_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    finished_reason: Mapped[str | None] = mapped_column(String(40))


class Experiment(Base):
    """A reminder strategy run as an experiment: arms (each a channel and the reminder kinds it
    sends) and a no-reminder holdout, assigned by a hash of participant and experiment, between
    two dates. ``synthetic`` marks the demo's experiment on synthetic data."""

    __tablename__ = "reminder_experiment"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text)
    #: [{"name": "wa-5d", "channel": "whatsapp", "due_before_days": [5]}, ...]
    arms: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    holdout_share: Mapped[float] = mapped_column(Float)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
