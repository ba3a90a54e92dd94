"""The reminders' writes: queue a day's reminders, opt-out and consent, delivery status from
the provider, replies (STOP). Each is one transaction with its audit row (the caller's)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor, Role
from cakupan.dates import Clock
from cakupan.db import is_postgres
from cakupan.errors import invalid, not_found
from cakupan.i18n import t
from cakupan.registry.models import Participant
from cakupan.reminders.models import CHANNELS, STATUSES, Reminder, ReminderPreference
from cakupan.reminders.planning import PlannedReminder, plan_day
from cakupan.reminders.rules import MessageFacts, allowed_before, render_message

__all__ = [
    "STAFF_ROLES",
    "opt_out",
    "opt_out_by_phone",
    "queue_reminders",
    "record_consent",
    "record_status",
]

_INSERT_CHUNK = 5000

#: Roles whose users record a participant's opt-out or consent on the participant's page (the
#: branch staff who talk to participants), within their scope.
STAFF_ROLES = frozenset({Role.ADMIN, Role.KABID, Role.ARK, Role.AR, Role.PAP})


def _body(item: PlannedReminder) -> str:
    due_on = item.month.first_day.replace(day=15) if item.kind == "due_before" else None
    closes_on = (item.month + 3).first_day if item.kind == "arrears" else None
    return render_message(
        MessageFacts(
            kind=item.kind,
            name=item.name,
            amount=item.amount,
            first_month=item.month,
            months=item.months,
            due_on=due_on,
            payment_code=item.payment_code,
            valid_until=item.valid_until,
            closes_on=closes_on,
            contact_name=item.contact_name,
            contact_phone=item.contact_phone,
            contact_role=item.contact_role,
        )
    )


def _insert_rows(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    maker = pg_insert if is_postgres(session) else sqlite_insert
    statement = maker(Reminder).on_conflict_do_nothing(index_elements=["dedupe_key"])
    result = session.execute(statement, rows)
    return int(getattr(result, "rowcount", 0) or 0) if len(rows) == 1 else len(rows)


def queue_reminders(session: Session, actor: Actor, clock: Clock, on: date) -> dict[str, int]:
    """Queue the reminders planned for ``on`` (see :func:`plan_day`); returns counts per kind.
    A reminder already queued (its dedupe key) is not queued again, so running this twice for a
    day queues nothing the second time."""
    now = clock.now()
    counts: dict[str, int] = {"queued": 0}
    batch: list[dict[str, Any]] = []
    for item in plan_day(session, on):
        batch.append(
            {
                "dedupe_key": item.dedupe_key,
                "participant_id": item.participant_id,
                "membership_id": item.membership_id,
                "kind": item.kind,
                "channel": item.channel,
                "month": item.month.index,
                "months": item.months,
                "amount": item.amount,
                "payment_code": item.payment_code,
                "planned_for": on,
                "send_after": item.send_after,
                "body": _body(item),
                "experiment_id": item.experiment_id,
                "arm": item.arm,
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": item.send_after,
                "created_at": now,
            }
        )
        counts[item.kind] = counts.get(item.kind, 0) + 1
        if len(batch) >= _INSERT_CHUNK:
            _insert_rows(session, batch)
            batch = []
    _insert_rows(session, batch)
    counts["queued"] = sum(v for k, v in counts.items() if k != "queued")
    record_audit(
        session, actor, "reminders.queue", "reminder_day", on.isoformat(), after=counts, at=now
    )
    return counts


def _participant(session: Session, nik: str) -> Participant:
    found = session.scalars(select(Participant).where(Participant.nik == nik)).first()
    if found is None:
        raise not_found(
            t("peserta dengan NIK {n}", "participant with NIK {n}").format(
                n=nik[:4] + "********" + nik[-4:]
            )
        )
    return found


def _preference(
    session: Session, participant_id: int, actor: Actor, at: datetime
) -> ReminderPreference:
    pref = session.get(ReminderPreference, participant_id)
    if pref is None:
        pref = ReminderPreference(
            participant_id=participant_id, updated_at=at, updated_by=actor.name
        )
        session.add(pref)
    return pref


def opt_out(
    session: Session, actor: Actor, clock: Clock, nik: str, *, source: str = "staff"
) -> bool:
    """Record that the participant wants no more reminders (a staff entry or a STOP reply) and
    cancel what is queued for them. Returns False when they had already opted out."""
    participant = _participant(session, nik)
    now = clock.now()
    pref = _preference(session, participant.id, actor, now)
    if pref.opted_out_at is not None:
        return False
    before = {"opted_out_at": None}
    pref.opted_out_at = now
    pref.opted_out_source = source
    pref.updated_at = now
    pref.updated_by = actor.name
    session.execute(
        update(Reminder)
        .where(Reminder.participant_id == participant.id, Reminder.status == "queued")
        .values(status="cancelled", finished_reason="opted_out")
    )
    record_audit(
        session,
        actor,
        "reminders.opt_out",
        "participant",
        participant.id,
        before=before,
        after={"opted_out_at": now.isoformat(), "source": source},
        at=now,
    )
    return True


def opt_out_by_phone(session: Session, actor: Actor, clock: Clock, phone: str) -> int:
    """A STOP reply from ``phone``: every participant with that number opts out. Returns how
    many (the number itself is never written to the audit or the logs)."""
    niks = session.scalars(select(Participant.nik).where(Participant.phone == phone)).all()
    return sum(opt_out(session, actor, clock, nik, source="reply") for nik in niks)


def record_consent(
    session: Session, actor: Actor, clock: Clock, nik: str, *, channel: str | None, source: str
) -> None:
    """Record the participant's consent to reminders (and their channel); lifts an opt-out."""
    if channel is not None and channel not in CHANNELS:
        raise invalid(
            "channel",
            t("diharapkan {c}, diterima {v!r}", "expected {c}, got {v!r}").format(
                c=" atau ".join(CHANNELS), v=channel
            ),
        )
    participant = _participant(session, nik)
    now = clock.now()
    pref = _preference(session, participant.id, actor, now)
    before = {
        "channel": pref.channel,
        "opted_out_at": pref.opted_out_at.isoformat() if pref.opted_out_at else None,
    }
    pref.channel = channel or pref.channel
    pref.consent_at = now
    pref.consent_source = source
    pref.opted_out_at = None
    pref.opted_out_source = None
    pref.updated_at = now
    pref.updated_by = actor.name
    record_audit(
        session,
        actor,
        "reminders.consent",
        "participant",
        participant.id,
        before=before,
        after={"channel": pref.channel, "source": source},
        at=now,
    )


_STAMP = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at"}


def record_status(session: Session, provider_id: str, status: str, at: datetime) -> bool:
    """A delivery status from the provider. The status only moves forward (queued -> sent ->
    delivered -> read; failed final), whatever order the callbacks arrive in: a status that
    would move backwards is ignored. Returns whether the message changed."""
    if status not in STATUSES or status in ("queued", "cancelled"):
        raise invalid(
            "status", t("status tak dikenal {s!r}", "unknown status {s!r}").format(s=status)
        )
    values: dict[str, Any] = {"status": status}
    if status in _STAMP:
        values[_STAMP[status]] = at
    if status == "failed":
        values["finished_reason"] = "provider"
    result = session.execute(
        update(Reminder)
        .where(Reminder.provider_id == provider_id, Reminder.status.in_(allowed_before(status)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
