"""The only write path of claims: take a claim in, move it through the workflow, upload its
documents, add days off to the working calendar. Each action validates, writes, audits and (for
state changes) writes a ``claim.status_changed`` webhook event, in the caller's transaction;
a refusal raises before anything is written."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cakupan.access import mask_nik
from cakupan.audit import record_audit
from cakupan.auth import Actor, Role
from cakupan.claims.models import BenefitStory, CalendarDayOff, Claim, ClaimDocument, ClaimStep
from cakupan.claims.queries import check_claim_nik, claim_in_scope, quote
from cakupan.claims.rules import (
    ACCEPTED_CONTENT_TYPES,
    CONSENT_METHODS,
    DOCUMENT_LABELS,
    MAX_DOCUMENT_BYTES,
    SUBMIT_ROLES,
    Cause,
    Channel,
    ClaimState,
    ClaimType,
    DocumentKind,
    JhtReason,
    Relation,
    check_transition,
    claimant_problem,
    is_death_claim,
    missing_documents,
    required_documents,
    sniff_content_type,
    story_code,
    story_problem,
)
from cakupan.dates import JAKARTA, Clock, parse_date
from cakupan.errors import CakupanError, FieldProblem, conflict, forbidden, invalid
from cakupan.i18n import t
from cakupan.integration import Event, enqueue
from cakupan.registry.models import Participant

__all__ = [
    "ClaimIntake",
    "add_day_off",
    "advance_claim",
    "create_story",
    "submit_claim",
    "upload_document",
]

_ACCOUNT_RE = re.compile(r"^\d{6,20}$")
_BANK_RE = re.compile(r"^[A-Za-z0-9 .&-]{2,40}$")


@dataclass(frozen=True)
class ClaimIntake:
    """What a claim is taken in with (plain strings as typed on a form, a command or a request;
    :func:`submit_claim` checks every field)."""

    claim_type: str
    nik: str
    event_date: str | date
    claimant_name: str
    claimant_nik: str
    relation: str
    bank_name: str
    bank_account: str
    bank_account_holder: str
    cause: str | None = None
    jht_reason: str | None = None
    channel: str | None = None


_E = TypeVar("_E", bound=StrEnum)


def _enum(value: str | None, kind: type[_E], field: str) -> _E:
    text = (value or "").strip().lower()
    try:
        return kind(text)
    except ValueError:
        raise invalid(
            field,
            t(
                "diharapkan salah satu dari {c}, diterima {v!r}",
                "expected one of {c}, got {v!r}",
            ).format(c=", ".join(str(k) for k in kind), v=value),
            code=f"claims.{field.replace('-', '_')}_invalid",
        ) from None


def _today(clock: Clock) -> date:
    return clock.now().astimezone(JAKARTA).date()


def _text_field(value: str, field: str, limit: int) -> str:
    cleaned = " ".join((value or "").split())
    if not cleaned or len(cleaned) > limit:
        raise invalid(
            field,
            t(
                "wajib diisi, paling banyak {n} karakter; diterima {v!r}",
                "required, at most {n} characters; got {v!r}",
            ).format(n=limit, v=value),
        )
    return cleaned


def submit_claim(session: Session, actor: Actor, intake: ClaimIntake, *, clock: Clock) -> Claim:
    """Take a claim in as ``submitted`` with its amount priced on the event date.

    Refused (nothing written) for: an unknown claim type, cause, JHT reason or heir relation; an
    invalid participant or claimant NIK; a claimant that does not fit the claim (a death is
    claimed by an heir); an event date not covered by the ledger; a second live claim for the
    same death; a bank account that is not 6-20 digits; a partner or agent submitting for a
    participant outside their scope."""
    if str(actor.role) not in SUBMIT_ROLES:
        raise forbidden(
            t("Peran {r} tidak boleh mengajukan klaim", "Role {r} may not submit claims").format(
                r=str(actor.role)
            )
        )
    today = _today(clock)
    claim_type = _enum(intake.claim_type, ClaimType, "type")
    cause = None if not intake.cause else _enum(intake.cause, Cause, "cause")
    if claim_type is ClaimType.JHT:
        if cause is not None:
            raise invalid(
                "cause",
                t("JHT memakai --jht-reason, bukan --cause", "JHT takes --jht-reason, not --cause"),
            )
        jht_reason: JhtReason | None = _enum(intake.jht_reason, JhtReason, "jht-reason")
    else:
        if intake.jht_reason:
            raise invalid(
                "jht-reason",
                t("hanya untuk klaim JHT", "only for JHT claims"),
            )
        jht_reason = None
        cause = cause or (Cause.DEATH if claim_type is ClaimType.JKM else Cause.ACCIDENT)
    relation = _enum(intake.relation, Relation, "relation")
    channel = _enum(intake.channel or _default_channel(actor), Channel, "channel")
    try:
        event_date = (
            intake.event_date
            if isinstance(intake.event_date, date)
            else parse_date(intake.event_date)
        )
    except ValueError as error:
        raise invalid("event-date", t("{e}", "{e}").format(e=str(error))) from None
    if event_date > today:
        raise invalid(
            "event-date",
            t(
                "tanggal kejadian {d} setelah hari ini ({h})",
                "event date {d} is after today ({h})",
            ).format(d=event_date.isoformat(), h=today.isoformat()),
        )
    problem = claimant_problem(claim_type, cause, jht_reason, relation)
    if problem is not None:
        raise invalid("relation", problem, code="claims.relation_invalid")
    claimant_name = _text_field(intake.claimant_name, "claimant-name", 200)
    holder = _text_field(intake.bank_account_holder, "account-holder", 200)
    bank = _text_field(intake.bank_name, "bank", 40)
    if not _BANK_RE.match(bank):
        raise invalid(
            "bank", t("nama bank tidak sah: {v!r}", "not a bank name: {v!r}").format(v=bank)
        )
    account = (intake.bank_account or "").replace(" ", "").replace("-", "")
    if not _ACCOUNT_RE.match(account):
        raise invalid(
            "account",
            t(
                "nomor rekening harus 6-20 digit, diterima {v!r}",
                "a bank account number has 6-20 digits, got {v!r}",
            ).format(v=intake.bank_account),
        )
    nik = check_claim_nik(session, intake.nik, "nik", today)
    claimant_nik = check_claim_nik(session, intake.claimant_nik, "claimant-nik", today)
    if relation is Relation.SELF and claimant_nik != nik:
        raise invalid(
            "claimant-nik",
            t(
                "pemohon 'self' harus ber-NIK peserta",
                "a 'self' claimant must have the participant's NIK",
            ),
        )
    if relation is not Relation.SELF and claimant_nik == nik:
        raise invalid(
            "claimant-nik",
            t("NIK ahli waris sama dengan NIK peserta", "the heir's NIK is the participant's NIK"),
        )
    participant = session.execute(
        select(Participant).where(Participant.nik == nik)
    ).scalar_one_or_none()
    priced = quote(
        session, claim_type=claim_type, nik=nik, event_date=event_date, cause=cause, today=today
    )
    if participant is None or not priced.eligible:
        raise CakupanError(
            title=t("Klaim ditolak: tidak memenuhi syarat", "Claim refused: not eligible"),
            problems=[
                FieldProblem(field="event-date", message=reason, code="claims.not_eligible")
                for reason in priced.reasons[-1:]
            ],
            code="claims.not_eligible",
        )
    _check_actor_scope(actor, participant)
    group = _death_group(claim_type, cause, jht_reason)
    if group is not None:
        _refuse_second_death_claim(session, participant.id, group)
    now = clock.now()
    claim = Claim(
        participant_id=participant.id,
        claim_type=str(claim_type),
        cause=None if cause is None else str(cause),
        jht_reason=None if jht_reason is None else str(jht_reason),
        death_group=group,
        event_date=event_date,
        state=str(ClaimState.SUBMITTED),
        amount=priced.amount,
        sources=list(priced.sources),
        claimant_name=claimant_name,
        claimant_nik=claimant_nik,
        relation=str(relation),
        bank_name=bank,
        bank_account=account,
        bank_account_holder=holder,
        channel=str(channel),
        branch_code=participant.branch_code,
        partner_code=participant.partner_code,
        agent_code=participant.agent_code,
        submitted_on=today,
        submitted_by=actor.name,
        updated_at=now,
    )
    session.add(claim)
    participant_id = participant.id  # read before a failed flush expires the objects
    try:
        session.flush()
    except IntegrityError:
        # A concurrent intake of the same death won the partial unique index; the caller's
        # transaction is rolled back by the error.
        raise _second_death(participant_id) from None
    _step(session, actor, claim, None, ClaimState.SUBMITTED, today, None, clock)
    record_audit(
        session,
        actor,
        "claim.submit",
        "claim",
        claim.id,
        after={
            "type": claim.claim_type,
            "participant_id": participant.id,
            "event_date": event_date.isoformat(),
            "amount": claim.amount,
            "relation": claim.relation,
            "channel": claim.channel,
        },
        at=now,
    )
    _notify(session, claim, nik, now)
    return claim


def _default_channel(actor: Actor) -> str:
    if actor.role is Role.PARTNER:
        return "partner"
    if actor.role is Role.AGENT:
        return "agent"
    return "branch"


def _check_actor_scope(actor: Actor, participant: Participant) -> None:
    """Branch staff take in claims of their branch; partners and agents of their own
    participants (the registry's partner/agent of the participant)."""
    role = actor.role
    ok = True
    if role in (Role.PAP, Role.KABID):
        ok = actor.branch_code is not None and participant.branch_code == actor.branch_code
    elif role is Role.PARTNER:
        ok = actor.partner_code is not None and participant.partner_code == actor.partner_code
    elif role is Role.AGENT:
        ok = actor.agent_code is not None and participant.agent_code == actor.agent_code
    if not ok:
        raise forbidden(
            t(
                "Peserta {n} bukan peserta dalam lingkup Anda",
                "Participant {n} is not in your scope",
            ).format(n=mask_nik(participant.nik))
        )


def _death_group(
    claim_type: ClaimType, cause: Cause | None, jht_reason: JhtReason | None
) -> str | None:
    if not is_death_claim(claim_type, cause, jht_reason):
        return None
    # JKM and JKK death are one benefit per death (a death is either a work accident or not);
    # the JHT balance paid by reason of death is a separate benefit.
    return "jht-death" if claim_type is ClaimType.JHT else "death"


def _second_death(participant_id: int) -> CakupanError:
    return conflict(
        t(
            "Kematian peserta ini sudah diklaim (klaim yang belum ditolak sudah ada)",
            "This participant's death is already claimed (a claim not rejected exists)",
        ),
        code="claims.duplicate_death",
        problems=[
            FieldProblem(
                field="nik",
                message=t("peserta {i}", "participant {i}").format(i=participant_id),
                code="claims.duplicate_death",
            )
        ],
    )


def _refuse_second_death_claim(session: Session, participant_id: int, group: str) -> None:
    existing = session.execute(
        select(Claim.id).where(
            Claim.participant_id == participant_id,
            Claim.death_group == group,
            Claim.state != str(ClaimState.REJECTED),
        )
    ).first()
    if existing is not None:
        error = _second_death(participant_id)
        error.problems.append(
            FieldProblem(
                field="claim",
                message=t("klaim {i}", "claim {i}").format(i=existing[0]),
                code="claims.duplicate_death",
            )
        )
        raise error


def _step(
    session: Session,
    actor: Actor,
    claim: Claim,
    before: ClaimState | None,
    after: ClaimState,
    on: date,
    note: str | None,
    clock: Clock,
) -> None:
    session.add(
        ClaimStep(
            claim_id=claim.id,
            from_state=None if before is None else str(before),
            to_state=str(after),
            on=on,
            at=clock.now(),
            actor=actor.name,
            role=str(actor.role),
            note=note,
        )
    )


def _notify(session: Session, claim: Claim, nik: str, at: datetime) -> None:
    if not claim.partner_code:
        return
    enqueue(
        session,
        [
            Event(
                claim.partner_code,
                "claim.status_changed",
                {
                    "claim_id": claim.id,
                    "type": claim.claim_type,
                    "nik": mask_nik(nik),
                    "state": claim.state,
                    "amount": claim.amount,
                    "paid_on": None if claim.paid_on is None else claim.paid_on.isoformat(),
                },
            )
        ],
        at,
    )


def advance_claim(
    session: Session,
    actor: Actor,
    claim_id: int,
    to: str,
    *,
    clock: Clock,
    reason: str | None = None,
    payment_reference: str | None = None,
    on: date | None = None,
) -> Claim:
    """Move a claim one workflow step (see :data:`cakupan.claims.rules.TRANSITIONS`).

    ``verified`` needs every document of the checklist (the missing ones are named); ``rejected``
    needs a reason; ``paid`` needs the payment reference (unique). ``on`` is the business date of
    the step (default today); it may not be in the future nor before the previous step."""
    target = _enum(to, ClaimState, "to")
    claim = claim_in_scope(session, actor, claim_id)
    state = ClaimState(claim.state)
    problem = check_transition(state, target, str(actor.role))
    if problem is not None:
        if state is not target and (state, target) in _transitions():
            raise forbidden(problem)
        raise conflict(problem, code="claims.transition_invalid")
    if actor.role in (Role.PAP, Role.KABID) and claim.branch_code != actor.branch_code:
        raise forbidden()
    today = _today(clock)
    day = on or today
    previous = claim.paid_on or claim.approved_on or claim.verified_on or claim.submitted_on
    if day > today or day < previous:
        raise invalid(
            "on",
            t(
                "tanggal langkah harus antara {a} dan hari ini ({b}), diterima {d}",
                "the step date must be between {a} and today ({b}), got {d}",
            ).format(a=previous.isoformat(), b=today.isoformat(), d=day.isoformat()),
        )
    before = {"state": claim.state}
    note: str | None = None
    if target is ClaimState.VERIFIED:
        required = required_documents(
            ClaimType(claim.claim_type),
            None if claim.cause is None else Cause(claim.cause),
            None if claim.jht_reason is None else JhtReason(claim.jht_reason),
            Relation(claim.relation),
        )
        have = [
            DocumentKind(k)
            for k in session.execute(
                select(ClaimDocument.kind).where(ClaimDocument.claim_id == claim.id)
            ).scalars()
        ]
        missing = missing_documents(required, have)
        if missing:
            raise invalid(
                "documents",
                t("dokumen belum lengkap: {m}", "documents missing: {m}").format(
                    m=", ".join(f"{k} ({DOCUMENT_LABELS[k].render()})" for k in missing)
                ),
                code="claims.documents_missing",
                record=f"claim {claim.id}",
            )
        claim.verified_on = day
    elif target is ClaimState.APPROVED:
        claim.approved_on = day
    elif target is ClaimState.REJECTED:
        note = _text_field(reason or "", "reason", 500)
        claim.rejection_reason = note
        claim.rejected_on = day
    elif target is ClaimState.PAID:
        reference = _text_field(payment_reference or "", "payment-reference", 80)
        taken = session.execute(
            select(Claim.id).where(Claim.payment_reference == reference)
        ).first()
        if taken is not None:
            raise conflict(
                t(
                    "Referensi pembayaran {r} sudah dipakai klaim {i}",
                    "Payment reference {r} is already used by claim {i}",
                ).format(r=reference, i=taken[0]),
                code="claims.payment_reference_taken",
            )
        claim.payment_reference = reference
        claim.paid_on = day
        note = reference
    claim.state = str(target)
    now = clock.now()
    claim.updated_at = now
    claim_key = claim.id
    _step(session, actor, claim, state, target, day, note, clock)
    try:
        session.flush()
    except IntegrityError:
        # The same payment reference recorded at the same moment for another claim.
        raise conflict(
            t(
                "Referensi pembayaran sudah dipakai klaim lain (klaim {i})",
                "The payment reference is already used by another claim (claim {i})",
            ).format(i=claim_key),
            code="claims.payment_reference_taken",
        ) from None
    record_audit(
        session,
        actor,
        f"claim.{target}",
        "claim",
        claim.id,
        before=before,
        after={"state": claim.state, "on": day.isoformat(), "note": note},
        at=now,
    )
    nik = session.execute(
        select(Participant.nik).where(Participant.id == claim.participant_id)
    ).scalar_one()
    _notify(session, claim, nik, now)
    return claim


def _transitions() -> set[tuple[ClaimState, ClaimState]]:
    from cakupan.claims.rules import TRANSITIONS

    return set(TRANSITIONS)


def upload_document(
    session: Session,
    actor: Actor,
    claim_id: int,
    kind: str,
    *,
    file_name: str,
    content: bytes,
    clock: Clock,
) -> ClaimDocument:
    """Store one document of a claim's checklist (replacing an earlier upload of that kind),
    with its SHA-256. Refused: a kind not on the claim's checklist, a file over
    :data:`MAX_DOCUMENT_BYTES` or empty, content that is not PDF/JPEG/PNG by its first bytes, a
    claim already decided (approved, rejected, paid)."""
    document_kind = _enum(kind, DocumentKind, "kind")
    claim = claim_in_scope(session, actor, claim_id)
    if claim.state not in (ClaimState.SUBMITTED, ClaimState.VERIFIED):
        raise conflict(
            t(
                "Klaim {i} berstatus {s}: dokumen tidak bisa diubah",
                "Claim {i} is {s}: its documents can no longer change",
            ).format(i=claim.id, s=claim.state),
            code="claims.documents_closed",
        )
    required = required_documents(
        ClaimType(claim.claim_type),
        None if claim.cause is None else Cause(claim.cause),
        None if claim.jht_reason is None else JhtReason(claim.jht_reason),
        Relation(claim.relation),
    )
    if document_kind not in required:
        raise invalid(
            "kind",
            t(
                "dokumen {k} tidak ada dalam daftar klaim ini ({r})",
                "document {k} is not on this claim's checklist ({r})",
            ).format(k=str(document_kind), r=", ".join(str(r) for r in required)),
            code="claims.document_kind_invalid",
            record=f"claim {claim.id}",
        )
    size = len(content)
    if size == 0 or size > MAX_DOCUMENT_BYTES:
        raise invalid(
            "file",
            t(
                "ukuran berkas {n} byte; harus 1 sampai {m} byte",
                "file size {n} bytes; must be 1 to {m} bytes",
            ).format(n=size, m=MAX_DOCUMENT_BYTES),
            code="claims.document_too_large" if size else "claims.document_empty",
            record=file_name,
        )
    content_type = sniff_content_type(content)
    if content_type is None:
        raise invalid(
            "file",
            t(
                "isi berkas bukan {a}",
                "the file's content is not one of {a}",
            ).format(a=", ".join(ACCEPTED_CONTENT_TYPES)),
            code="claims.document_type_invalid",
            record=file_name,
        )
    name = (file_name or "document").strip().replace("/", "_").replace("\\", "_")[:255]
    digest = hashlib.sha256(content).hexdigest()
    existing = session.execute(
        select(ClaimDocument).where(
            ClaimDocument.claim_id == claim.id, ClaimDocument.kind == str(document_kind)
        )
    ).scalar_one_or_none()
    before = None if existing is None else {"sha256": existing.sha256, "size": existing.size}
    now = clock.now()
    if existing is None:
        existing = ClaimDocument(claim_id=claim.id, kind=str(document_kind))
        session.add(existing)
    existing.file_name = name
    existing.content_type = content_type
    existing.size = size
    existing.sha256 = digest
    existing.content = content
    existing.uploaded_at = now
    existing.uploaded_by = actor.name
    session.flush()
    record_audit(
        session,
        actor,
        "claim.document_upload",
        "claim",
        claim.id,
        before=before,
        after={"kind": str(document_kind), "sha256": digest, "size": size, "type": content_type},
        at=now,
    )
    return existing


def add_day_off(
    session: Session, actor: Actor, day: date, name: str, source: str, *, clock: Clock
) -> CalendarDayOff:
    """Add a day off (e.g. a *cuti bersama* decided after the ``holidays`` release) to the working
    calendar of the JKK service level; admin, head office or system only."""
    if actor.role not in (Role.ADMIN, Role.HEAD_OFFICE, Role.SYSTEM):
        raise forbidden()
    label = _text_field(name, "name", 200)
    cited = _text_field(source, "source", 300)
    if session.get(CalendarDayOff, day) is not None:
        raise conflict(
            t("Hari libur {d} sudah ada", "Day off {d} already exists").format(d=day.isoformat()),
            code="claims.day_off_exists",
        )
    now = clock.now()
    row = CalendarDayOff(day=day, name=label, source=cited, added_at=now, added_by=actor.name)
    session.add(row)
    session.flush()
    record_audit(
        session,
        actor,
        "claim.calendar_day_off",
        "claim_calendar_day_off",
        day.isoformat(),
        after={"name": label, "source": cited},
        at=now,
    )
    return row


def create_story(
    session: Session,
    actor: Actor,
    claim_id: int,
    *,
    title: str,
    body: str,
    consent_by: str,
    consent_on: date,
    consent_method: str,
    clock: Clock,
) -> BenefitStory:
    """Turn a paid claim into a benefit story campaigns can cite (``KISAH-0001``), with the
    claimant's consent recorded (who, when, how). Refused: a claim not paid, a second story of
    one claim, a consent dated before payment or in the future, a method outside
    :data:`CONSENT_METHODS`, text carrying a NIK, phone or account number. Branch staff of the
    claim's branch (and admin/head office/system) only."""
    if actor.role not in (Role.PAP, Role.KABID, Role.ADMIN, Role.HEAD_OFFICE, Role.SYSTEM):
        raise forbidden()
    claim = claim_in_scope(session, actor, claim_id)
    if claim.state != ClaimState.PAID or claim.paid_on is None:
        raise conflict(
            t(
                "Klaim {i} belum dibayar: kisah hanya dari klaim yang sudah dibayar",
                "Claim {i} is not paid: stories come from paid claims only",
            ).format(i=claim.id),
            code="claims.story_not_paid",
        )
    if session.execute(select(BenefitStory.id).where(BenefitStory.claim_id == claim.id)).first():
        raise conflict(
            t("Klaim {i} sudah punya kisah", "Claim {i} already has a story").format(i=claim.id),
            code="claims.story_exists",
        )
    clean_title = _text_field(title, "title", 200)
    clean_body = (body or "").strip()
    if not clean_body or len(clean_body) > 4000:
        raise invalid(
            "body", t("wajib diisi, maks. 4000 karakter", "required, 4000 characters max")
        )
    for field_name, text_value in (("title", clean_title), ("body", clean_body)):
        problem = story_problem(text_value)
        if problem is not None:
            raise invalid(field_name, problem, code="claims.story_personal_number")
    method = (consent_method or "").strip()
    if method not in CONSENT_METHODS:
        raise invalid(
            "consent-method",
            t(
                "diharapkan salah satu dari {c}, diterima {v!r}", "expected one of {c}, got {v!r}"
            ).format(c=", ".join(CONSENT_METHODS), v=consent_method),
        )
    if consent_on < claim.paid_on or consent_on > _today(clock):
        raise invalid(
            "consent-on",
            t(
                "tanggal persetujuan harus antara pembayaran ({p}) dan hari ini",
                "the consent date must be between the payment ({p}) and today",
            ).format(p=claim.paid_on.isoformat()),
        )
    who = _text_field(consent_by, "consent-by", 200)
    now = clock.now()
    story = BenefitStory(
        code="",
        claim_id=claim.id,
        title=clean_title,
        body=clean_body,
        claim_type=claim.claim_type,
        amount=claim.amount,
        branch_code=claim.branch_code,
        consent_by=who,
        consent_on=consent_on,
        consent_method=method,
        created_at=now,
        created_by=actor.name,
    )
    session.add(story)
    session.flush()
    story.code = story_code(story.id)
    session.flush()
    record_audit(
        session,
        actor,
        "claim.story",
        "benefit_story",
        story.code,
        after={
            "claim_id": claim.id,
            "consent_by": who,
            "consent_on": consent_on.isoformat(),
            "consent_method": method,
        },
        at=now,
    )
    return story
