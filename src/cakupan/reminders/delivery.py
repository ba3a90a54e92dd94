"""The outbox worker: send the queued reminders that are due, inside the sending hours, at most
``reminder_rate_per_second`` per channel, with retries and back-off (at most the policy's
attempts), after cancelling what no longer applies (paid, opted out, stale).

Crash safety: a batch is claimed, sent and recorded in one transaction. A worker killed after
the provider accepted a message and before the commit leaves it queued; the next run sends it
again with the same reference (the outbox id), which the provider (and the fake) answers with
the same message: nothing is lost and nobody receives it twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, bindparam, select, text
from sqlalchemy.orm import Session

from cakupan.dates import Clock, today
from cakupan.db import is_postgres, transaction
from cakupan.registry.models import Participant
from cakupan.reminders.gateway import Gateway, GatewayError
from cakupan.reminders.models import Reminder
from cakupan.reminders.policy import ReminderPolicy, policy_on
from cakupan.reminders.rules import backoff, in_window

__all__ = ["DeliveryResult", "cancel_inapplicable", "deliver_due"]

logger = logging.getLogger("cakupan.reminders")

BATCH = 200

# Queued messages of a batch that no longer apply: the month (or code) was paid, a new episode
# began, the participant opted out, the message is stale. Checked per batch (by primary key):
# the cost follows the batch, not the size of the queue.
_CANCEL = {
    "paid": (
        "UPDATE reminder SET status = 'cancelled', finished_reason = 'paid'"
        " WHERE id IN :ids AND ("
        "  (kind IN ('due_before', 'arrears', 'unpaid_code') AND EXISTS (SELECT 1 FROM membership m"
        "    WHERE m.id = reminder.membership_id AND m.paid_through_month >= reminder.month))"
        "  OR (kind = 'unpaid_code' AND EXISTS (SELECT 1 FROM payment_code pc"
        "    WHERE pc.code = reminder.payment_code AND pc.payment_id IS NOT NULL))"
        "  OR (kind = 'reacquire' AND EXISTS (SELECT 1 FROM membership m"
        "    WHERE m.participant_id = reminder.participant_id AND m.id > reminder.membership_id)))"
    ),
    "opted_out": (
        "UPDATE reminder SET status = 'cancelled', finished_reason = 'opted_out'"
        " WHERE id IN :ids AND EXISTS (SELECT 1 FROM reminder_preference rp"
        " WHERE rp.participant_id = reminder.participant_id AND rp.opted_out_at IS NOT NULL)"
    ),
    "stale": (
        "UPDATE reminder SET status = 'cancelled', finished_reason = 'stale'"
        " WHERE id IN :ids AND planned_for < :oldest"
    ),
}


@dataclass
class DeliveryResult:
    """What one delivery run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    outside_hours: bool = False

    def as_json(self) -> dict[str, int | bool]:
        return dict(self.__dict__)


def cancel_inapplicable(
    session: Session, clock: Clock, policy: ReminderPolicy, ids: Sequence[int]
) -> set[int]:
    """Cancel those of the queued messages ``ids`` that no longer apply; returns the ids still
    queued (to send)."""
    if not ids:
        return set()
    oldest = today(clock) - timedelta(days=policy.stale_after_days)
    for sql in _CANCEL.values():
        statement = text(sql).bindparams(bindparam("ids", expanding=True))
        session.execute(statement, {"ids": list(ids), "oldest": oldest})
    # The ids are this batch's queued rows (selected, and locked on PostgreSQL, in this
    # transaction): filtering by primary key alone keeps SQLite on the rowid, not on the status
    # index (half a million queued rows).
    rows = session.execute(select(Reminder.id, Reminder.status).where(Reminder.id.in_(ids)))
    return {reminder_id for reminder_id, status in rows if status == "queued"}


class _Pacer:
    """At most ``rate`` messages per second per channel (real time: the rate protects the
    provider, whatever the injected clock says)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at: dict[str, float] = {}

    def wait(self, channel: str) -> None:
        now = time.monotonic()
        slot = max(self.next_at.get(channel, now), now)
        if slot > now:
            time.sleep(slot - now)
        self.next_at[channel] = slot + self.interval


def deliver_due(
    engine: Engine,
    clock: Clock,
    gateway: Gateway,
    *,
    budget_seconds: float = 20.0,
    rate_per_second: float | None = None,
    batch: int = BATCH,
) -> DeliveryResult:
    """Send what is due, batch by batch, until nothing is due or ``budget_seconds`` have passed
    (then the scheduler runs it again). Outside the sending hours nothing is sent."""
    from cakupan.settings import get_settings

    result = DeliveryResult()
    policy = policy_on(today(clock))
    if not in_window(policy, clock.now()):
        result.outside_hours = True
        return result
    pacer = _Pacer(
        rate_per_second if rate_per_second is not None else get_settings().reminder_rate_per_second
    )
    deadline = time.monotonic() + budget_seconds
    while time.monotonic() < deadline:
        now = clock.now()
        if not in_window(policy, now):
            break
        with transaction(engine) as session:
            query = (
                select(Reminder, Participant.phone)
                .join(Participant, Participant.id == Reminder.participant_id)
                # next_attempt_at starts at send_after and only grows: one index range, in order.
                .where(Reminder.status == "queued", Reminder.next_attempt_at <= now)
                .order_by(Reminder.next_attempt_at)
                .limit(batch)
            )
            if is_postgres(session):
                query = query.with_for_update(of=Reminder, skip_locked=True)
            due = session.execute(query).all()
            if not due:
                break
            sendable = cancel_inapplicable(session, clock, policy, [r.id for r, _ in due])
            result.cancelled += len(due) - len(sendable)
            for reminder, phone in due:
                if reminder.id not in sendable:
                    continue
                pacer.wait(reminder.channel)
                attempted = clock.now()
                if not in_window(policy, attempted):
                    break  # 20:00 WIB passed during the batch: the rest waits for tomorrow
                reminder.attempts += 1
                try:
                    provider_id = gateway.send(
                        channel=reminder.channel,
                        to=phone,
                        body=reminder.body,
                        reference=str(reminder.id),
                    )
                except GatewayError as error:
                    reminder.last_error = str(error)[:400]
                    if reminder.attempts >= policy.max_attempts:
                        reminder.status = "failed"
                        reminder.finished_reason = "attempts"
                        result.failed += 1
                        logger.warning(
                            "reminder %s failed for good: %s", reminder.id, reminder.last_error
                        )
                    else:
                        reminder.next_attempt_at = attempted + backoff(policy, reminder.attempts)
                        result.retried += 1
                    continue
                reminder.status = "sent"
                reminder.provider_id = provider_id
                reminder.sent_at = attempted
                reminder.last_error = None
                result.sent += 1
    return result
