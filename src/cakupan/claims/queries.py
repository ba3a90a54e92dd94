"""Read side of claims: the quote (eligibility and amount from the ledger, writes nothing), the
working calendar, and scoped lists and details of claims and their documents."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from cakupan.access import SensitiveValue, participant_scope_for, reveal
from cakupan.auth import Actor
from cakupan.claims.models import BenefitStory, CalendarDayOff, Claim, ClaimDocument, ClaimStep
from cakupan.claims.rules import (
    DOCUMENT_LABELS,
    BenefitBook,
    Cause,
    ClaimQuote,
    ClaimState,
    ClaimType,
    DocumentKind,
    JhtReason,
    LedgerFacts,
    Relation,
    ServiceLevel,
    WorkingCalendar,
    missing_documents,
    quote_claim,
    required_documents,
    service_level,
    shipped_benefit_book,
)
from cakupan.contributions import PolicyBook, load_policy_book
from cakupan.dates import Month
from cakupan.errors import CakupanError, invalid, not_found
from cakupan.i18n import t
from cakupan.registry import status_of
from cakupan.registry.models import (
    Membership,
    Participant,
    ParticipantTerms,
    Payment,
    PaymentReversal,
)
from cakupan.registry.nik import check_nik

__all__ = [
    "BenefitsPaid",
    "ClaimView",
    "benefits_paid",
    "check_claim_nik",
    "claim_detail",
    "claim_in_scope",
    "document_content",
    "ledger_facts",
    "list_claims",
    "quote",
    "working_calendar",
]


class _KnownDistricts:
    """District codes answered by the database (one query per NIK)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def __contains__(self, code: object) -> bool:
        from cakupan import regions

        return isinstance(code, str) and regions.district_exists(self._session, code)


def check_claim_nik(session: Session, nik: str, field: str, today: date) -> str:
    """``nik`` stripped, or an INVALID error naming ``field`` with every NIK rule it breaks
    (the registry's rules: digits, length, known district, birth date, serial)."""
    districts: Container[str] = _KnownDistricts(session)
    checked = check_nik(nik or "", known_districts=districts, today=today)
    if not checked.valid:
        raise invalid(
            field,
            t("NIK {n} tidak valid: {e}", "NIK {n} is not valid: {e}").format(
                n=nik, e="; ".join(p.message.render() for p in checked.errors)
            ),
            code="claims.nik_invalid",
        )
    return checked.nik


def _terms_in(
    session: Session, participant: Participant, month: Month
) -> tuple[int, str, str, str]:
    """(income, programs, sector, funding) of the terms in force in ``month``."""
    row = session.execute(
        select(ParticipantTerms)
        .where(
            ParticipantTerms.participant_id == participant.id,
            ParticipantTerms.effective_month <= month,
        )
        .order_by(ParticipantTerms.effective_month.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        return (
            participant.reported_income,
            participant.programs,
            participant.sector,
            participant.funding,
        )
    return row.reported_income, row.programs, row.sector, row.funding


def ledger_facts(
    session: Session, nik: str, event_date: date, book: PolicyBook | None = None
) -> LedgerFacts:
    """What the ledger says of ``nik`` on ``event_date`` (the registry's status on that date,
    counting payments made by then and not reversed by then). Raises NOT_FOUND when the NIK
    is unknown or was not registered yet on that date."""
    view = status_of(session, nik, event_date)
    participant = session.execute(select(Participant).where(Participant.nik == nik)).scalar_one()
    start = session.execute(
        select(Membership.start_month).where(
            Membership.participant_id == participant.id, Membership.episode_no == view.episode
        )
    ).scalar_one()
    policy_book = book or load_policy_book(session)
    event_month = Month.of(event_date)
    base_income: int | None = None
    band_policy: str | None = None
    income, programs, sector, funding = _terms_in(session, participant, event_month)
    try:
        quote = policy_book.quote(
            income=income, programs=programs, month=event_month, sector=sector, funding=funding
        )
        base_income = quote.base_income
        band_policy = policy_book.band_table(event_month).record.ref
    except CakupanError:
        base_income = None  # no policy in force that month: JKK death cannot be priced
    contributions: list[tuple[Month, int]] = []
    payments = session.execute(
        select(Payment.first_month, Payment.months)
        .outerjoin(PaymentReversal, PaymentReversal.payment_id == Payment.id)
        .where(
            Payment.participant_id == participant.id,
            Payment.paid_on <= event_date,
            (PaymentReversal.id.is_(None)) | (PaymentReversal.reversed_on > event_date),
        )
        .order_by(Payment.first_month)
    ).all()
    for first, months in payments:
        for offset in range(months):
            month = first + offset
            m_income, m_programs, m_sector, m_funding = _terms_in(session, participant, month)
            if "JHT" not in m_programs:
                continue
            lines = policy_book.quote(
                income=m_income,
                programs=m_programs,
                month=month,
                sector=m_sector,
                funding=m_funding,
            ).lines
            contributions.append(
                (month, sum(line.amount for line in lines if line.program.value == "JHT"))
            )
    return LedgerFacts(
        status=view.status,
        start_month=start,
        paid_through=view.paid_through,
        base_income=base_income,
        band_policy=band_policy,
        has_jht="JHT" in programs,
        jht_contributions=tuple(contributions),
    )


def quote(
    session: Session,
    *,
    claim_type: ClaimType,
    nik: str,
    event_date: date,
    cause: Cause | None,
    today: date,
    book: BenefitBook | None = None,
) -> ClaimQuote:
    """Eligibility and amount of a claim on ``event_date``; writes nothing. An invalid NIK is an
    INVALID error; a valid NIK that is not registered (or not yet on that date) is a quote with
    ``eligible`` false and the reason."""
    nik = check_claim_nik(session, nik, "nik", today)
    if claim_type is ClaimType.JKM and cause is Cause.ACCIDENT:
        raise invalid(
            "cause",
            t(
                "JKM hanya untuk kematian (cause death); kematian karena kecelakaan kerja "
                "diklaim sebagai JKK --cause death",
                "JKM covers death only (cause death); a death by work accident is claimed as "
                "JKK --cause death",
            ),
            code="claims.cause_invalid",
        )
    try:
        facts: LedgerFacts | None = ledger_facts(session, nik, event_date)
        reason = None
    except CakupanError as error:
        facts, reason = None, error.title
    return quote_claim(
        claim_type=claim_type,
        nik=nik,
        event_date=event_date,
        cause=cause,
        facts=facts,
        book=book or shipped_benefit_book(),
        not_registered=reason,
    )


def working_calendar(session: Session) -> WorkingCalendar:
    """The Indonesian working calendar with the days off the agency added."""
    days = session.execute(select(CalendarDayOff.day)).scalars().all()
    return WorkingCalendar(extra_days_off=frozenset(days))


# --- claims, scoped --------------------------------------------------------------------------------


_CLAIM: Any = Claim.__table__


def _scope(session: Session, actor: Actor) -> ColumnElement[bool]:
    return participant_scope_for(
        session,
        actor,
        branch_code=_CLAIM.c.branch_code,
        partner_code=_CLAIM.c.partner_code,
        agent_code=_CLAIM.c.agent_code,
        participant_id=_CLAIM.c.participant_id,
    )


def claim_in_scope(session: Session, actor: Actor, claim_id: int) -> Claim:
    """The claim if ``actor`` may see it; NOT_FOUND otherwise (another scope's claim is not
    acknowledged to exist)."""
    claim = session.execute(
        select(Claim).where(Claim.id == claim_id, _scope(session, actor))
    ).scalar_one_or_none()
    if claim is None:
        raise not_found(
            t("Klaim {i} tidak ditemukan", "Claim {i} not found").format(i=claim_id),
            code="claims.not_found",
        )
    return claim


@dataclass(frozen=True)
class ClaimView:
    """One claim as its reader may see it (NIKs masked unless the role needs them)."""

    id: int
    claim_type: str
    cause: str | None
    jht_reason: str | None
    state: str
    nik: str
    participant_name: str
    event_date: date
    amount: int | None
    claimant_name: str
    claimant_nik: str
    relation: str
    bank_name: str
    bank_account: str
    channel: str
    branch_code: str | None
    partner_code: str | None
    agent_code: str | None
    submitted_on: date
    approved_on: date | None
    paid_on: date | None
    payment_reference: str | None
    rejection_reason: str | None
    sources: list[str]
    service_level: ServiceLevel | None
    required: list[str]
    uploaded: list[dict[str, Any]]
    missing: list[str]
    steps: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        sla = self.service_level
        return {
            "id": self.id,
            "type": self.claim_type,
            "cause": self.cause,
            "jht_reason": self.jht_reason,
            "state": self.state,
            "nik": self.nik,
            "participant_name": self.participant_name,
            "event_date": self.event_date.isoformat(),
            "amount": self.amount,
            "claimant": {
                "name": self.claimant_name,
                "nik": self.claimant_nik,
                "relation": self.relation,
            },
            "bank": {"name": self.bank_name, "account": self.bank_account},
            "channel": self.channel,
            "branch_code": self.branch_code,
            "partner_code": self.partner_code,
            "agent_code": self.agent_code,
            "submitted_on": self.submitted_on.isoformat(),
            "approved_on": None if self.approved_on is None else self.approved_on.isoformat(),
            "paid_on": None if self.paid_on is None else self.paid_on.isoformat(),
            "payment_reference": self.payment_reference,
            "rejection_reason": self.rejection_reason,
            "sources": self.sources,
            "service_level": None
            if sla is None
            else {
                "deadline": sla.deadline.isoformat(),
                "working_days_left": sla.working_days_left,
                "on_time": sla.on_time,
                "at_risk": sla.at_risk,
            },
            "documents": {
                "required": self.required,
                "uploaded": self.uploaded,
                "missing": self.missing,
            },
            "steps": self.steps,
        }


def _service_level(
    claim: Claim, today: date, calendar: WorkingCalendar, days: int
) -> ServiceLevel | None:
    if claim.claim_type != ClaimType.JKK or claim.approved_on is None:
        return None
    return service_level(
        approved_on=claim.approved_on,
        paid_on=claim.paid_on,
        today=today,
        calendar=calendar,
        days=days,
    )


def _sla_days(book: BenefitBook, day: date) -> int:
    return book.get("jkk_service_level", day).days or 0


def _views(
    session: Session, actor: Actor, rows: list[tuple[Claim, str, str]], today: date, full: bool
) -> list[ClaimView]:
    book = shipped_benefit_book()
    calendar = working_calendar(session)
    shown = reveal(
        session,
        actor,
        [
            value
            for claim, nik, _ in rows
            for value in (
                SensitiveValue("claim", claim.id, "nik", nik, claim.branch_code),
                SensitiveValue("claim", claim.id, "nik", claim.claimant_nik, claim.branch_code),
            )
        ],
    )
    # Uploaded kinds of every listed claim in one query (no query per row).
    kinds_of: dict[int, list[DocumentKind]] = {}
    if rows:
        for claim_id, kind in session.execute(
            select(ClaimDocument.claim_id, ClaimDocument.kind).where(
                ClaimDocument.claim_id.in_([claim.id for claim, _, _ in rows])
            )
        ):
            kinds_of.setdefault(claim_id, []).append(DocumentKind(kind))
    views = []
    for index, (claim, _, name) in enumerate(rows):
        required = required_documents(
            ClaimType(claim.claim_type),
            None if claim.cause is None else Cause(claim.cause),
            None if claim.jht_reason is None else JhtReason(claim.jht_reason),
            Relation(claim.relation),
        )
        uploaded: list[dict[str, Any]] = []
        steps: list[dict[str, Any]] = []
        if full:
            uploaded = [
                {
                    "kind": d.kind,
                    "label": DOCUMENT_LABELS[DocumentKind(d.kind)].render(),
                    "file_name": d.file_name,
                    "content_type": d.content_type,
                    "size": d.size,
                    "sha256": d.sha256,
                }
                # Metadata only: the bytes stay in the database until downloaded.
                for d in session.execute(
                    select(
                        ClaimDocument.kind,
                        ClaimDocument.file_name,
                        ClaimDocument.content_type,
                        ClaimDocument.size,
                        ClaimDocument.sha256,
                    )
                    .where(ClaimDocument.claim_id == claim.id)
                    .order_by(ClaimDocument.kind)
                )
            ]
            steps = [
                {
                    "from": s.from_state,
                    "to": s.to_state,
                    "on": s.on.isoformat(),
                    "actor": s.actor,
                    "role": s.role,
                    "note": s.note,
                }
                for s in session.execute(
                    select(ClaimStep).where(ClaimStep.claim_id == claim.id).order_by(ClaimStep.id)
                ).scalars()
            ]
        kinds = kinds_of.get(claim.id, [])
        views.append(
            ClaimView(
                id=claim.id,
                claim_type=claim.claim_type,
                cause=claim.cause,
                jht_reason=claim.jht_reason,
                state=claim.state,
                nik=shown[2 * index],
                participant_name=name,
                event_date=claim.event_date,
                amount=claim.amount,
                claimant_name=claim.claimant_name,
                claimant_nik=shown[2 * index + 1],
                relation=claim.relation,
                bank_name=claim.bank_name,
                bank_account=claim.bank_account,
                channel=claim.channel,
                branch_code=claim.branch_code,
                partner_code=claim.partner_code,
                agent_code=claim.agent_code,
                submitted_on=claim.submitted_on,
                approved_on=claim.approved_on,
                paid_on=claim.paid_on,
                payment_reference=claim.payment_reference,
                rejection_reason=claim.rejection_reason,
                sources=list(claim.sources or []),
                service_level=_service_level(
                    claim, today, calendar, _sla_days(book, claim.approved_on or today)
                ),
                required=[str(k) for k in required],
                uploaded=uploaded,
                missing=[str(k) for k in missing_documents(required, kinds)],
                steps=steps,
            )
        )
    return views


def _base(session: Session, actor: Actor) -> Select[Claim, str, str]:
    return (
        select(Claim, Participant.nik, Participant.name)
        .join(Participant, Participant.id == Claim.participant_id)
        .where(_scope(session, actor))
    )


def list_claims(
    session: Session,
    actor: Actor,
    *,
    today: date,
    state: ClaimState | None = None,
    claim_type: ClaimType | None = None,
    limit: int = 200,
) -> list[ClaimView]:
    """Claims ``actor`` may see, JKK claims at risk of missing their payment deadline first (the
    nearest deadline first), then the newest."""
    query = _base(session, actor)
    if state is not None:
        query = query.where(Claim.state == str(state))
    if claim_type is not None:
        query = query.where(Claim.claim_type == str(claim_type))
    rows = [(c, n, m) for c, n, m in session.execute(query.order_by(Claim.id.desc()).limit(limit))]
    views = _views(session, actor, rows, today, full=False)

    def order(view: ClaimView) -> tuple[int, str, int]:
        sla = view.service_level
        if sla is not None and sla.at_risk:
            return (0, sla.deadline.isoformat(), -view.id)
        return (1, "", -view.id)

    return sorted(views, key=order)


def claim_detail(session: Session, actor: Actor, claim_id: int, *, today: date) -> ClaimView:
    """One claim with its checklist, documents (metadata, not bytes) and steps; NOT_FOUND outside
    the actor's scope."""
    claim_in_scope(session, actor, claim_id)
    row = session.execute(_base(session, actor).where(Claim.id == claim_id)).one()
    return _views(session, actor, [(row[0], row[1], row[2])], today, full=True)[0]


def document_content(
    session: Session, actor: Actor, claim_id: int, kind: DocumentKind
) -> ClaimDocument:
    """One document of a claim in ``actor``'s scope (NOT_FOUND otherwise, also for another
    scope's claim)."""
    claim_in_scope(session, actor, claim_id)
    document = session.execute(
        select(ClaimDocument).where(
            ClaimDocument.claim_id == claim_id, ClaimDocument.kind == str(kind)
        )
    ).scalar_one_or_none()
    if document is None:
        raise not_found(
            t(
                "Dokumen {k} klaim {i} belum diunggah", "Document {k} of claim {i} not uploaded"
            ).format(k=str(kind), i=claim_id),
            code="claims.document_not_found",
        )
    return document


# --- benefits paid (the shared dashboard) --------------------------------------------------------


@dataclass(frozen=True)
class BenefitsPaid:
    """Benefits paid in a period, in the reader's scope: totals, one breakdown per dimension
    (rows of ``{"key", "count", "amount"}``) and the JKK payments made within the service level."""

    count: int
    amount: int
    by: dict[str, list[dict[str, Any]]]
    jkk_paid: int
    jkk_on_time: int

    @property
    def on_time_percent(self) -> float | None:
        return None if self.jkk_paid == 0 else round(100 * self.jkk_on_time / self.jkk_paid, 1)

    def as_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "amount": self.amount,
            "by": self.by,
            "jkk_paid": self.jkk_paid,
            "jkk_on_time": self.jkk_on_time,
            "jkk_on_time_percent": self.on_time_percent,
        }


def benefits_paid(
    session: Session,
    actor: Actor,
    first: Month,
    last: Month,
    *,
    region: str | None = None,
    branch: str | None = None,
    partner: str | None = None,
    channel: str | None = None,
) -> BenefitsPaid:
    """Claims paid from the first day of ``first`` to the last day of ``last`` (payment date,
    Asia/Jakarta business dates) that ``actor`` may see, with the optional filters, per month,
    type, branch, partner and channel. A claim without a fixed amount (JKK care) counts with 0."""
    query = select(
        Claim.paid_on,
        Claim.claim_type,
        Claim.branch_code,
        Claim.partner_code,
        Claim.channel,
        Claim.amount,
        Claim.approved_on,
    ).where(
        Claim.state == str(ClaimState.PAID),
        Claim.paid_on >= first.first_day,
        Claim.paid_on <= last.last_day,
        _scope(session, actor),
    )
    if region:
        from cakupan.regions import branches_of_region

        query = query.where(Claim.branch_code.in_(branches_of_region(session, region)))
    if branch:
        query = query.where(Claim.branch_code == branch)
    if partner:
        query = query.where(Claim.partner_code == partner)
    if channel:
        query = query.where(Claim.channel == channel)
    rows = session.execute(query).all()
    dimensions = ("month", "type", "branch", "partner", "channel")
    sums: dict[str, dict[str, list[int]]] = {name: {} for name in dimensions}
    book = shipped_benefit_book()
    calendar = working_calendar(session)
    jkk_paid = jkk_on_time = 0
    for paid_on, claim_type, branch_code, partner_code, claim_channel, amount, approved in rows:
        assert paid_on is not None  # a paid claim has its payment date
        keys = (
            str(Month.of(paid_on)),
            claim_type,
            branch_code or "-",
            partner_code or "-",
            claim_channel,
        )
        for name, key in zip(dimensions, keys, strict=True):
            cell = sums[name].setdefault(key, [0, 0])
            cell[0] += 1
            cell[1] += amount or 0
        if claim_type == ClaimType.JKK and approved is not None:
            jkk_paid += 1
            deadline = calendar.add_working_days(approved, _sla_days(book, approved))
            jkk_on_time += paid_on <= deadline
    return BenefitsPaid(
        count=len(rows),
        amount=sum(amount or 0 for *_, amount, _ in rows),
        by={
            name: [
                {"key": key, "count": cell[0], "amount": cell[1]}
                for key, cell in sorted(sums[name].items())
            ]
            for name in dimensions
        },
        jkk_paid=jkk_paid,
        jkk_on_time=jkk_on_time,
    )


def stories(session: Session) -> list[BenefitStory]:
    """Every benefit story, newest first. Stories carry no NIK and were consented to for
    publication: any signed-in reader may see them (campaigns cite them across scopes)."""
    return list(session.execute(select(BenefitStory).order_by(BenefitStory.id.desc())).scalars())


def story(session: Session, code: str) -> BenefitStory:
    """One story by its code (``KISAH-0001``); NOT_FOUND otherwise."""
    found = session.execute(
        select(BenefitStory).where(BenefitStory.code == code.strip().upper())
    ).scalar_one_or_none()
    if found is None:
        raise not_found(
            t("Kisah {c} tidak ditemukan", "Story {c} not found").format(c=code),
            code="claims.story_not_found",
        )
    return found
