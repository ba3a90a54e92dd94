"""Read side of the reminders: a participant's reminders with their outcomes (their history),
the latest reminder per participant (the retention worklists' "reminded 2 days ago, not
paid"), the outbox's counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cakupan.dates import JAKARTA
from cakupan.registry.models import Payment, PaymentReversal
from cakupan.reminders.models import Reminder, ReminderPreference

__all__ = [
    "SENT_STATUSES",
    "LastReminder",
    "last_reminders",
    "outbox_counts",
    "reminder_as_json",
    "reminder_history",
    "reminders_of",
]

#: Statuses of a message that reached the provider (the participant was reminded).
SENT_STATUSES = ("sent", "delivered", "read")


def reminder_as_json(reminder: Reminder) -> dict[str, Any]:
    return {
        "id": reminder.id,
        "kind": reminder.kind,
        "channel": reminder.channel,
        "month": str(reminder.month) if reminder.month is not None else None,
        "months": reminder.months,
        "amount": reminder.amount,
        "payment_code": reminder.payment_code,
        "planned_for": reminder.planned_for.isoformat(),
        "status": reminder.status,
        "attempts": reminder.attempts,
        "sent_at": reminder.sent_at.isoformat() if reminder.sent_at else None,
        "delivered_at": reminder.delivered_at.isoformat() if reminder.delivered_at else None,
        "read_at": reminder.read_at.isoformat() if reminder.read_at else None,
        "finished_reason": reminder.finished_reason,
        "experiment_id": reminder.experiment_id,
        "arm": reminder.arm,
    }


def reminders_of(session: Session, participant_id: int) -> list[Reminder]:
    """A participant's reminders, newest first."""
    return list(
        session.scalars(
            select(Reminder)
            .where(Reminder.participant_id == participant_id)
            .order_by(Reminder.planned_for.desc(), Reminder.id.desc())
        )
    )


def _local_day(at: datetime) -> date:
    return at.astimezone(JAKARTA).date()


def reminder_history(session: Session, participant_id: int, as_of: date) -> dict[str, Any]:
    """A participant's reminders up to ``as_of`` (newest first) with their outcome, and their
    reminder preference (channel, consent, opt-out). A reminder's outcome is its delivery
    status and ``paid_on``: the first payment (not reversed) on or after the day the reminder
    was planned for, whatever it paid; a payment after a reminder, not proof that the reminder
    caused it (experiments measure that)."""
    payments = sorted(
        paid_on
        for (paid_on,) in session.execute(
            select(Payment.paid_on)
            .outerjoin(PaymentReversal, PaymentReversal.payment_id == Payment.id)
            .where(
                Payment.participant_id == participant_id,
                PaymentReversal.id.is_(None),
                Payment.paid_on <= as_of,
            )
        )
    )
    items: list[dict[str, Any]] = []
    for reminder in reminders_of(session, participant_id):
        if reminder.planned_for > as_of:
            continue
        item = reminder_as_json(reminder)
        after = next((d for d in payments if d >= reminder.planned_for), None)
        item["paid_on"] = None if after is None else after.isoformat()
        items.append(item)
    pref = session.get(ReminderPreference, participant_id)
    return {
        "reminders": items,
        "preference": {
            "channel": None if pref is None else pref.channel,
            "consent_at": None
            if pref is None or pref.consent_at is None
            else pref.consent_at.astimezone(JAKARTA).isoformat(),
            "consent_source": None if pref is None else pref.consent_source,
            "opted_out_at": None
            if pref is None or pref.opted_out_at is None
            else pref.opted_out_at.astimezone(JAKARTA).isoformat(),
            "opted_out_source": None if pref is None else pref.opted_out_source,
        },
    }


@dataclass(frozen=True)
class LastReminder:
    """The latest reminder sent to a participant (for a worklist row)."""

    kind: str
    channel: str
    status: str
    sent_on: date

    def as_json(self, as_of: date) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "channel": self.channel,
            "status": self.status,
            "sent_on": self.sent_on.isoformat(),
            "days_ago": (as_of - self.sent_on).days,
        }


def last_reminders(
    session: Session, since: dict[int, date], as_of: date
) -> tuple[dict[int, LastReminder], set[int]]:
    """For each participant id in ``since``: the latest reminder that went out (sent,
    delivered or read) from its ``since`` day to the end of ``as_of``, and the set of those
    ids that had opted out by ``as_of``. Two indexed reads per 5,000 participants."""
    found: dict[int, LastReminder] = {}
    opted_out: set[int] = set()
    ids: Sequence[int] = list(since)
    earliest = min(since.values(), default=as_of)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for pid, kind, channel, status, sent_at in session.execute(
            select(
                Reminder.participant_id,
                Reminder.kind,
                Reminder.channel,
                Reminder.status,
                Reminder.sent_at,
            )
            .where(
                Reminder.participant_id.in_(chunk),
                Reminder.planned_for >= earliest,
                Reminder.planned_for <= as_of,
                Reminder.status.in_(SENT_STATUSES),
            )
            .order_by(Reminder.sent_at, Reminder.id)
        ):
            if sent_at is None:
                continue
            day = _local_day(sent_at)
            if since[pid] <= day <= as_of:
                found[pid] = LastReminder(kind, channel, status, day)
        for pid, at in session.execute(
            select(ReminderPreference.participant_id, ReminderPreference.opted_out_at).where(
                ReminderPreference.participant_id.in_(chunk),
                ReminderPreference.opted_out_at.is_not(None),
            )
        ):
            if at is not None and _local_day(at) <= as_of:
                opted_out.add(int(pid))
    return found, opted_out


def outbox_counts(session: Session) -> dict[str, int]:
    """Messages per status."""
    rows = session.execute(select(Reminder.status, func.count()).group_by(Reminder.status))
    return {str(status): int(count) for status, count in rows}
