"""Corrections of participants registered under a rule that was wrong (issue 19).

``correct_sector``: participants whose occupation is in the PP 50/2025 transport sector
(``data/occupation_terms.toml``) but who were registered with sector ``other`` (the default before
issue 19). The correction is a dated change of their contribution terms with history, effective
from the first month they have not paid yet; months already paid stay as they were paid (the
ledger is never rewritten) and are reported when the transport price would have been lower.
Payments that were refused because they carried the (correct) transport amount were never
written, so the partner simply posts them again after the correction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.contributions import PolicyBook, load_policy_book
from cakupan.dates import Clock, Month, SystemClock
from cakupan.errors import not_found
from cakupan.i18n import t
from cakupan.registry.actions import change_participant
from cakupan.registry.models import CoveredMonth, Membership, Participant, ParticipantTerms
from cakupan.registry.occupation_terms import occupation_terms, sector_for_occupation


@dataclass(frozen=True)
class PaidMonth:
    """A month already paid under the old sector, at a price the corrected sector would lower."""

    month: Month
    paid: int
    corrected: int

    def as_json(self) -> dict[str, Any]:
        return {"month": str(self.month), "paid": self.paid, "corrected": self.corrected}


@dataclass(frozen=True)
class SectorCorrection:
    """What ``correct_sector`` did to one participant."""

    nik: str
    occupation: str
    old_sector: str
    new_sector: str
    effective_month: Month | None
    corrected: bool
    overpaid_months: tuple[PaidMonth, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "nik": self.nik,
            "occupation": self.occupation,
            "old_sector": self.old_sector,
            "new_sector": self.new_sector,
            "effective_month": str(self.effective_month) if self.effective_month else None,
            "corrected": self.corrected,
            "overpaid_months": [m.as_json() for m in self.overpaid_months],
            "overpaid_total": sum(m.paid - m.corrected for m in self.overpaid_months),
        }


def participants_to_correct(session: Session) -> list[str]:
    """NIKs registered with sector ``other`` whose occupation is in the transport sector."""
    transport = sorted(occupation_terms().transport)
    return list(
        session.execute(
            select(Participant.nik)
            .where(Participant.sector == "other", Participant.occupation.in_(transport))
            .order_by(Participant.id)
        ).scalars()
    )


def correct_sector(
    session: Session,
    actor: Actor,
    nik: str,
    *,
    clock: Clock | None = None,
    book: PolicyBook | None = None,
) -> SectorCorrection:
    """Move a participant registered with sector ``other`` to the sector of the occupation
    (``transport``), from the first month not yet paid of the latest episode (its start month
    when nothing is paid). Terms rows from that month on take the sector; the history and the
    audit (``participant.correct_sector``) keep the old value. Idempotent: a participant whose
    sector already matches, or who chose ``transport`` for another occupation, is unchanged.
    ``book``: the contribution policies, loaded once by a caller correcting many."""
    clock = clock or SystemClock()
    participant = session.execute(
        select(Participant).where(Participant.nik == (nik or "").strip())
    ).scalar_one_or_none()
    if participant is None:
        raise not_found(t("NIK {n} tidak terdaftar", "NIK {n} is not registered").format(n=nik))
    wanted = sector_for_occupation(participant.occupation)
    latest = session.execute(
        select(Membership.paid_through_month, Membership.start_month)
        .where(Membership.participant_id == participant.id)
        .order_by(Membership.episode_no.desc())
        .limit(1)
    ).one()
    effective = latest[0] + 1 if latest[0] is not None else latest[1]
    stale_terms = session.execute(
        select(ParticipantTerms.effective_month).where(
            ParticipantTerms.participant_id == participant.id,
            ParticipantTerms.effective_month >= effective,
            ParticipantTerms.sector != wanted,
        )
    ).first()
    if wanted != "transport" or (participant.sector == wanted and stale_terms is None):
        return SectorCorrection(
            nik=participant.nik,
            occupation=participant.occupation,
            old_sector=participant.sector,
            new_sector=participant.sector,
            effective_month=None,
            corrected=False,
        )
    old_sector = participant.sector
    if participant.sector != wanted:
        change_participant(
            session,
            actor,
            participant.nik,
            effective_month=effective,
            changes={"sector": wanted},
            clock=clock,
        )
    else:  # the row says transport, a terms row from that month on still says other
        session.flush()
    session.execute(
        update(ParticipantTerms)
        .where(
            ParticipantTerms.participant_id == participant.id,
            ParticipantTerms.effective_month >= effective,
        )
        .values(sector=wanted)
    )
    overpaid = _overpaid_months(session, participant, wanted, book or load_policy_book(session))
    result = SectorCorrection(
        nik=participant.nik,
        occupation=participant.occupation,
        old_sector=old_sector,
        new_sector=wanted,
        effective_month=effective,
        corrected=True,
        overpaid_months=overpaid,
    )
    record_audit(
        session,
        actor,
        "participant.correct_sector",
        "participant",
        participant.id,
        before={"sector": old_sector},
        after={
            **result.as_json(),
            "nik": None,  # the audit row names the participant by id
            "source": occupation_terms().transport_source,
        },
        at=clock.now(),
    )
    return result


def _overpaid_months(
    session: Session, participant: Participant, sector: str, book: PolicyBook
) -> tuple[PaidMonth, ...]:
    """Months paid (not reversed) whose price under ``sector`` is lower than what was paid."""
    rows = session.execute(
        select(CoveredMonth.month, CoveredMonth.amount)
        .where(CoveredMonth.participant_id == participant.id, CoveredMonth.reversed.is_(False))
        .order_by(CoveredMonth.month)
    ).all()
    terms = sorted(
        session.execute(
            select(ParticipantTerms).where(ParticipantTerms.participant_id == participant.id)
        ).scalars(),
        key=lambda row: row.effective_month,
    )
    out = []
    for month, amount in rows:
        in_force = [row for row in terms if row.effective_month <= month]
        if not in_force:
            continue
        row = in_force[-1]
        price = book.monthly_total(
            income=row.reported_income,
            programs=row.programs,
            month=month,
            sector=sector,
            funding=row.funding,
        )
        if price < amount:
            out.append(PaidMonth(month=month, paid=amount, corrected=price))
    return tuple(out)
