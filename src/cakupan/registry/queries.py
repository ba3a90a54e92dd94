"""Read side of the registry: status on a date (D-3) and a participant's full record.

``status_of`` is the hot path (p95 <= 5 ms): one indexed query, whatever the ledger's size,
sent as a fixed driver-level statement (building and caching an ORM statement per call costs
more than the query itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cakupan.dates import Month
from cakupan.db import is_postgres
from cakupan.errors import not_found
from cakupan.i18n import t
from cakupan.registry.models import (
    Membership,
    Participant,
    ParticipantChange,
    ParticipantTerms,
    Payment,
    PaymentCode,
    PaymentReversal,
)
from cakupan.registry.rules import Status, status_on

__all__ = ["ParticipantDetail", "StatusView", "participant_detail", "status_of"]


@dataclass(frozen=True)
class StatusView:
    """The status of a NIK on a date (the ``cakupan status`` document)."""

    nik: str
    status: Status
    episode: int
    paid_through: Month | None
    months_paid_in_episode: int
    as_of: date

    def as_json(self) -> dict[str, Any]:
        return {
            "nik": self.nik,
            "status": str(self.status),
            "episode": self.episode,
            "paid_through": None if self.paid_through is None else str(self.paid_through),
            "months_paid_in_episode": self.months_paid_in_episode,
        }


#: The episode in force on a date (the latest started by that month) with its paid-through month
#: and months paid, counting payments made by then and not reversed by then; an episode counts
#: from its registration date (issue 19: before it the NIK "was not registered yet", not
#: pending). Parameters: the date four times, the NIK, the date's month index, the date. Index paths only: participant (nik) ->
#: membership (participant_id) -> payment (membership_id) -> reversal (payment_id). The date
#: and month conditions are kept out of index reach (``CASE`` inside the aggregates, ``+ 0``):
#: with stale statistics (right after a bulk load) the planner otherwise combines the range
#: indexes on ``paid_on`` / ``start_month`` and reads a large part of them per lookup.
_STATUS_SQL = (
    "SELECT m.episode_no, m.start_month,"
    " (SELECT MAX(CASE WHEN y.paid_on <= %s THEN y.first_month + y.months - 1 END)"
    "  FROM payment y WHERE y.membership_id = m.id AND NOT EXISTS (SELECT 1 FROM"
    "  payment_reversal r WHERE r.payment_id = y.id AND r.reversed_on <= %s)),"
    " (SELECT COALESCE(SUM(CASE WHEN y.paid_on <= %s THEN y.months END), 0)"
    "  FROM payment y WHERE y.membership_id = m.id AND NOT EXISTS (SELECT 1 FROM"
    "  payment_reversal r WHERE r.payment_id = y.id AND r.reversed_on <= %s))"
    " FROM participant p JOIN membership m ON m.participant_id = p.id"
    " WHERE p.nik = %s AND m.start_month + 0 <= %s AND m.registered_on <= %s"
    " ORDER BY m.episode_no DESC LIMIT 1"
)


def status_of(session: Session, nik: str, as_of: date) -> StatusView:
    """D-3 on ``as_of`` for the episode in force then (the latest one started by that month),
    counting only payments made on or before ``as_of`` and not reversed by then.

    Raises NOT_FOUND for an unknown NIK or a date before the first registration."""
    nik = (nik or "").strip()
    postgres = is_postgres(session)
    day: object = as_of if postgres else as_of.isoformat()  # SQLite stores ISO dates
    row = (
        session.connection()
        .exec_driver_sql(
            _STATUS_SQL if postgres else _STATUS_SQL.replace("%s", "?"),
            (day, day, day, day, nik, Month.of(as_of).index, day),
        )
        .first()
    )
    if row is None:
        first = session.execute(
            select(func.min(Membership.registered_on))
            .join(Participant, Participant.id == Membership.participant_id)
            .where(Participant.nik == nik)
        ).scalar()
        if first is None:
            raise not_found(
                t("NIK {n} tidak terdaftar", "NIK {n} is not registered").format(n=nik),
                code="registry.nik_unknown",
            )
        raise not_found(
            t(
                "NIK {n} belum terdaftar pada {d} (pertama terdaftar {f})",
                "NIK {n} was not registered yet on {d} (first registered {f})",
            ).format(n=nik, d=as_of.isoformat(), f=first.isoformat()),
            code="registry.not_registered_yet",
        )
    episode_no, start_index, through_index, months_paid = row
    start = Month.from_index(int(start_index))
    through = None if through_index is None else Month.from_index(int(through_index))
    return StatusView(
        nik=nik,
        status=status_on(as_of, start, through),
        episode=episode_no,
        paid_through=through,
        months_paid_in_episode=int(months_paid),
        as_of=as_of,
    )


@dataclass(frozen=True)
class ParticipantDetail:
    """Everything the registry knows of one participant (the ``participants show`` document)."""

    participant: dict[str, Any]
    status: StatusView
    episodes: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    payment_codes: list[dict[str, Any]]
    terms: list[dict[str, Any]]
    history: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "status": self.status.as_json(),
            "episodes": self.episodes,
            "payments": self.payments,
            "payment_codes": self.payment_codes,
            "terms": self.terms,
            "history": self.history,
        }


def participant_detail(session: Session, nik: str, as_of: date) -> ParticipantDetail:
    """The participant with its episodes, payments (with reversals), codes, terms and change
    history, and its status on ``as_of``. Raises NOT_FOUND for an unknown NIK."""
    nik = (nik or "").strip()
    participant = session.execute(
        select(Participant).where(Participant.nik == nik)
    ).scalar_one_or_none()
    if participant is None:
        raise not_found(
            t("NIK {n} tidak terdaftar", "NIK {n} is not registered").format(n=nik),
            code="registry.nik_unknown",
        )
    status = status_of(session, nik, max(as_of, participant.registered_on))
    pid = participant.id
    episodes = [
        {
            "episode": m.episode_no,
            "registered_on": m.registered_on.isoformat(),
            "start_month": str(m.start_month),
            "channel": m.channel,
            "partner_code": m.partner_code,
            "agent_code": m.agent_code,
            "card_number": m.card_number,
            "first_paid_on": _iso(m.first_paid_on),
            "last_paid_on": _iso(m.last_paid_on),
            "paid_through": None if m.paid_through_month is None else str(m.paid_through_month),
            "months_paid": m.months_paid,
        }
        for m in session.execute(
            select(Membership)
            .where(Membership.participant_id == pid)
            .order_by(Membership.episode_no)
        ).scalars()
    ]
    payments = [
        {
            "reference": p.reference,
            "channel": p.channel,
            "episode": episode_no,
            "amount": p.amount,
            "paid_on": p.paid_on.isoformat(),
            "first_month": str(p.first_month),
            "months": p.months,
            "partner_code": p.partner_code,
            "agent_code": p.agent_code,
            "reversed_on": None if r is None else r.reversed_on.isoformat(),
            "reversal_reason": None if r is None else r.reason,
        }
        for p, r, episode_no in session.execute(
            select(Payment, PaymentReversal, Membership.episode_no)
            .join(Membership, Membership.id == Payment.membership_id)
            .outerjoin(PaymentReversal, PaymentReversal.payment_id == Payment.id)
            .where(Payment.participant_id == pid)
            .order_by(Payment.id)
        )
    ]
    codes = [
        {
            "code": c.code,
            "amount": c.amount,
            "first_month": str(c.first_month),
            "months": c.months,
            "valid_until": c.valid_until.isoformat(),
            "paid": c.payment_id is not None,
        }
        for c in session.execute(
            select(PaymentCode).where(PaymentCode.participant_id == pid).order_by(PaymentCode.id)
        ).scalars()
    ]
    terms = [
        {
            "effective_month": str(x.effective_month),
            "reported_income": x.reported_income,
            "programs": x.programs,
            "sector": x.sector,
            "funding": x.funding,
        }
        for x in session.execute(
            select(ParticipantTerms)
            .where(ParticipantTerms.participant_id == pid)
            .order_by(ParticipantTerms.effective_month)
        ).scalars()
    ]
    history = [
        {
            "effective_month": str(c.effective_month),
            "field": c.field,
            "old_value": c.old_value,
            "new_value": c.new_value,
            "recorded_at": c.recorded_at.isoformat(),
            "actor": c.actor,
        }
        for c in session.execute(
            select(ParticipantChange)
            .where(ParticipantChange.participant_id == pid)
            .order_by(ParticipantChange.id)
        ).scalars()
    ]
    return ParticipantDetail(
        participant={
            "nik": participant.nik,
            "name": participant.name,
            "sex": participant.sex,
            "birth_date": participant.birth_date.isoformat(),
            "phone": participant.phone,
            "email": participant.email,
            "village_code": participant.village_code,
            "district_code": participant.district_code,
            "regency_code": participant.regency_code,
            "branch_code": participant.branch_code,
            "occupation": participant.occupation,
            "reported_income": participant.reported_income,
            "programs": participant.programs,
            "sector": participant.sector,
            "funding": participant.funding,
            "channel": participant.channel,
            "partner_code": participant.partner_code,
            "agent_code": participant.agent_code,
            "registered_on": participant.registered_on.isoformat(),
        },
        status=status,
        episodes=episodes,
        payments=payments,
        payment_codes=codes,
        terms=terms,
        history=history,
    )


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
