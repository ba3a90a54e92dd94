"""Demo claims for ``cakupan demo``: a few claims of each type (JHT, JKM, JKK) in each workflow
state, taken in and moved through the real actions on participants of the seeded ledger whose
event date is covered. Deterministic for a given ledger and ``as_of``."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.claims.actions import ClaimIntake, advance_claim, submit_claim, upload_document
from cakupan.claims.models import Claim
from cakupan.claims.queries import quote
from cakupan.claims.rules import (
    Cause,
    ClaimState,
    ClaimType,
    JhtReason,
    Relation,
    required_documents,
)
from cakupan.dates import JAKARTA, FixedClock
from cakupan.db import make_session_factory
from cakupan.registry.models import Membership, Participant
from cakupan.registry.nik import compose_nik

#: The states each type is seeded in (one claim each), in workflow order.
STATES = (
    ClaimState.SUBMITTED,
    ClaimState.VERIFIED,
    ClaimState.APPROVED,
    ClaimState.REJECTED,
    ClaimState.PAID,
)
#: A minimal valid PDF, uploaded for every document of the checklist.
DEMO_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
#: Participants examined per claim type before giving up (bounded on a large ledger).
MAX_CANDIDATES = 400


def _clock(day: date) -> FixedClock:
    return FixedClock(datetime(day.year, day.month, day.day, 10, 0, tzinfo=JAKARTA))


def seed_demo_claims(engine: Engine, as_of: date, *, actor: Actor | None = None) -> int:
    """Seed up to five claims per type (one per state) once; returns how many were created
    (0 when claims already exist)."""
    who = actor or Actor.system("demo")
    factory = make_session_factory(engine)
    with factory() as session:
        if session.execute(select(func.count()).select_from(Claim)).scalar():
            return 0
        rows = session.execute(
            select(
                Participant.nik,
                Participant.district_code,
                Participant.programs,
                Membership.paid_through_month,
            )
            .join(Membership, Membership.participant_id == Participant.id)
            .where(Membership.paid_through_month.is_not(None))
            .order_by(Participant.id)
            .limit(MAX_CANDIDATES * 3)
        ).all()
    created = 0
    used: set[str] = set()
    serial = 9000
    for claim_type in (ClaimType.JKM, ClaimType.JKK, ClaimType.JHT):
        states = list(STATES)
        for nik, district, programs, through in rows:
            if not states:
                break
            if nik in used or through is None or district is None:
                continue
            if claim_type is ClaimType.JHT and "JHT" not in programs:
                continue
            event = min(through.first_day + timedelta(days=14), as_of - timedelta(days=20))
            if event < through.first_day:
                continue
            cause = Cause.DEATH if claim_type is not ClaimType.JHT else None
            with factory() as session:
                priced = quote(
                    session, claim_type=claim_type, nik=nik, event_date=event, cause=cause,
                    today=as_of,
                )  # fmt: skip
            if not priced.eligible:
                continue
            used.add(nik)
            serial += 1
            state = states.pop(0)
            heir = compose_nik(district, date(1980, 1, 1) + timedelta(days=serial), "F", serial)
            intake = ClaimIntake(
                claim_type=str(claim_type),
                nik=nik,
                event_date=event,
                claimant_name=f"Ahli waris {serial}",
                claimant_nik=heir,
                relation=str(Relation.SPOUSE),
                bank_name="BRI",
                bank_account=f"0{serial}00{serial}",
                bank_account_holder=f"Ahli waris {serial}",
                cause=None if cause is None else str(cause),
                jht_reason=str(JhtReason.DEATH) if claim_type is ClaimType.JHT else None,
                channel="branch",
            )
            day = event + timedelta(days=3)
            with factory() as session, session.begin():
                claim = submit_claim(session, who, intake, clock=_clock(day))
                _advance(session, who, claim, state, day)
            created += 1
    return created


def _advance(session: Session, who: Actor, claim: Claim, state: ClaimState, day: date) -> None:
    if state is ClaimState.SUBMITTED:
        return
    terms = (
        ClaimType(claim.claim_type),
        None if claim.cause is None else Cause(claim.cause),
        None if claim.jht_reason is None else JhtReason(claim.jht_reason),
        Relation(claim.relation),
    )
    for kind in required_documents(*terms):
        upload_document(
            session, who, claim.id, str(kind), file_name=f"{kind}.pdf", content=DEMO_PDF,
            clock=_clock(day),
        )  # fmt: skip
    if state is ClaimState.REJECTED:
        advance_claim(
            session, who, claim.id, "rejected", clock=_clock(day + timedelta(days=1)),
            reason="Surat keterangan ahli waris tidak sah",
        )  # fmt: skip
        return
    advance_claim(session, who, claim.id, "verified", clock=_clock(day + timedelta(days=1)))
    if state is ClaimState.VERIFIED:
        return
    advance_claim(session, who, claim.id, "approved", clock=_clock(day + timedelta(days=2)))
    if state is ClaimState.APPROVED:
        return
    advance_claim(
        session, who, claim.id, "paid", clock=_clock(day + timedelta(days=5)),
        payment_reference=f"DEMO-{claim.id:05d}",
    )  # fmt: skip
