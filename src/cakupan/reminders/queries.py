"""Read side of the reminders: a participant's reminders (their history, the retention
worklists' "reminded 2 days ago"), the outbox's counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cakupan.reminders.models import Reminder

__all__ = ["outbox_counts", "reminder_as_json", "reminders_of"]


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


def outbox_counts(session: Session) -> dict[str, int]:
    """Messages per status."""
    rows = session.execute(select(Reminder.status, func.count()).group_by(Reminder.status))
    return {str(status): int(count) for status, count in rows}
