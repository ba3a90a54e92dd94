"""Writes of the partners area. Each action validates, writes and audits in the caller's
transaction (the CLI opens one per command); the partner import is one transaction per file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.dates import Clock, today
from cakupan.errors import CakupanError, FieldProblem, conflict, invalid
from cakupan.i18n import Text, t
from cakupan.imports import ImportResult, Record, in_batches, open_records, post_file
from cakupan.incentives.definition import AgreementParameters
from cakupan.incentives.queries import SchemeRecord, scheme_in_force, scheme_names, scheme_version
from cakupan.incentives.rules import agreement_parameter_problems
from cakupan.partners.models import (
    DOCUMENT_KINDS,
    EVALUATION_OUTCOMES,
    PARTNER_KINDS,
    AgentEvaluation,
    Agreement,
    ApplicationDocument,
    Partner,
    PartnerApplication,
)
from cakupan.partners.queries import get_partner
from cakupan.partners.rules import (
    AGENT_KINDS,
    code_problem,
    kind_problem,
    parent_problem,
    parse_optional_date,
    parse_rate_percent,
    rate_text,
    transition_problem,
)
from cakupan.text import text_problem

IMPORT_COLUMNS = (
    "code",
    "name",
    "kind",
    "parent_code",
    "branch_code",
    "scheme",
    "commission_rate",
    "valid_from",
    "valid_to",
)

Problems = list[tuple[str, Text]]


# -- shared checks ---------------------------------------------------------------------------------


class _BranchCheck:
    """Branch codes checked against the regions area, each looked up once."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._known: dict[str, bool] = {}

    def problem(self, code: str) -> Text | None:
        if not code:
            return t(
                "kode kantor cabang wajib diisi (atau diwarisi dari induk)",
                "a branch code is required (or inherited from the parent)",
            )
        if code not in self._known:
            from cakupan.regions import branch

            self._known[code] = branch(self._session, code) is not None
        if self._known[code]:
            return None
        return t(
            "kantor cabang {c!r} tidak dikenal (lihat `cakupan offices list`)",
            "unknown branch {c!r} (see `cakupan offices list`)",
        ).format(c=code)


def _resolve_scheme(
    session: Session,
    name: str,
    version: int | None,
    valid_from: date,
    valid_to: date | None,
) -> tuple[SchemeRecord | None, Problems]:
    """The scheme version an agreement names: ``version`` when given, else the version in force
    on ``valid_from``; the agreement must start within the version's validity."""
    if name not in scheme_names(session):
        known = ", ".join(sorted(scheme_names(session)))
        return None, [
            (
                "scheme",
                t(
                    "skema harus salah satu dari {k} (atau kosong), ditemukan {v!r}",
                    "expected one of {k} (or empty), got {v!r}",
                ).format(k=known, v=name),
            )
        ]
    if version is None:
        record = scheme_in_force(session, name, valid_from)
    else:
        record = scheme_version(session, name, version)
        if not record.in_force_on(valid_from):
            record = None
    if record is None:
        return None, [
            (
                "valid_from",
                t(
                    "tidak ada versi skema {s} yang berlaku pada {d}",
                    "no version of scheme {s} is in force on {d}",
                ).format(s=name, d=valid_from.isoformat()),
            )
        ]
    problems: Problems = []
    if record.valid_to is not None and (valid_to is None or valid_to > record.valid_to):
        problems.append(
            (
                "valid_to",
                t(
                    "skema {s} versi {v} berlaku sampai {e}; perjanjian harus berakhir paling lambat tanggal itu",
                    "scheme {s} version {v} is valid until {e}; the agreement must end by then",
                ).format(s=name, v=record.version, e=record.valid_to.isoformat()),
            )
        )
    return record, problems


def _parameters_json(parameters: AgreementParameters) -> dict[str, Any]:
    out = parameters.model_dump(mode="json", exclude_none=True)
    if parameters.commission_rate_percent is not None:
        out["commission_rate_percent"] = rate_text(parameters.commission_rate_percent)
    return out


def _raise(title: Text, problems: Problems, record: str | None = None) -> None:
    if problems:
        raise CakupanError(
            title=title,
            problems=[FieldProblem(field=f, message=m, record=record) for f, m in problems],
        )


def _partner_row(session: Session, code: str) -> Partner:
    get_partner(session, code)  # NOT_FOUND with the standard message
    row = session.get(Partner, code)
    assert row is not None
    return row


def _partner_state(row: Partner) -> dict[str, Any]:
    return {
        "name": row.name,
        "kind": row.kind,
        "parent_code": row.parent_code,
        "branch_code": row.branch_code,
        "status": row.status,
        "status_reason": row.status_reason,
    }


# -- partners and agents ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPartner:
    """What creating a partner or agent needs."""

    code: str
    name: str
    kind: str
    branch_code: str | None = None
    parent_code: str | None = None


def _name_and_kind_problems(name: str, kind: str) -> Problems:
    problems: Problems = []
    if (bad := text_problem(name, t("nama", "the name"))) is not None:
        problems.append(("name", bad))
    elif not name.strip():
        problems.append(("name", t("nama wajib diisi", "a name is required")))
    if (p := kind_problem(kind)) is not None:
        problems.append(("kind", p))
    return problems


def _parent(
    session: Session, parent_code: str | None
) -> tuple[Partner | None, tuple[str, Text] | None]:
    """The parent partner named by ``parent_code`` (None when none is named), or the problem
    when it is unknown."""
    parent = session.get(Partner, parent_code) if parent_code else None
    if parent_code and parent is None:
        return None, (
            "parent_code",
            t("induk {p} tidak dikenal", "unknown parent {p}").format(p=parent_code),
        )
    return parent, None


def create_partner(
    session: Session, actor: Actor, clock: Clock, new: NewPartner, *, status: str = "active"
) -> Partner:
    """Create a partner (or, with ``status="recruited"``, a newly recruited agent). The branch is
    inherited from the parent when not given. CONFLICT when the code exists."""
    problems: Problems = []
    if (p := code_problem(new.code)) is not None:
        problems.append(("code", p))
    problems += _name_and_kind_problems(new.name, new.kind)
    parent, unknown_parent = _parent(session, new.parent_code)
    if unknown_parent is not None:
        problems.append(unknown_parent)
    elif not problems and (
        p := parent_problem(new.kind, new.parent_code, parent.kind if parent else None)
    ):
        problems.append(("parent_code", p))
    branch_code = new.branch_code or (parent.branch_code if parent else "")
    if (p := _BranchCheck(session).problem(branch_code)) is not None:
        problems.append(("branch_code", p))
    _raise(t("Mitra tidak dapat dibuat", "The partner cannot be created"), problems, new.code)
    if session.get(Partner, new.code) is not None:
        raise conflict(
            t(f"Kode mitra {new.code} sudah dipakai", f"Partner code {new.code} already exists"),
            code="partner-exists",
        )
    now = clock.now()
    on = today(clock)
    row = Partner(
        code=new.code,
        name=new.name.strip(),
        kind=new.kind,
        parent_code=new.parent_code or None,
        branch_code=branch_code,
        status=status,
        recruited_on=on if new.kind in AGENT_KINDS else None,
        activated_on=on if status == "active" else None,
        created_at=now,
    )
    session.add(row)
    session.flush()
    record_audit(
        session,
        actor,
        "partners.partner.create",
        "partner",
        row.code,
        after=_partner_state(row),
        at=now,
    )
    return row


def change_agent_status(
    session: Session,
    actor: Actor,
    clock: Clock,
    code: str,
    new_status: str,
    *,
    on: date | None = None,
    reason: str | None = None,
) -> Partner:
    """Move a partner or agent along its lifecycle (recruited -> trained -> active <-> suspended;
    any -> terminated, which needs a reason). Records the date of each step."""
    row = _partner_row(session, code)
    if (p := transition_problem(row.status, new_status)) is not None:
        raise invalid("status", p, record=code, code="partner-status")
    if new_status in {"terminated", "suspended"} and not (reason and reason.strip()):
        raise invalid(
            "reason",
            t("alasan wajib diisi", "a reason is required"),
            record=code,
            code="reason-required",
        )
    before = _partner_state(row)
    day = on or today(clock)
    row.status = new_status
    row.status_reason = reason.strip() if reason else None
    if new_status == "trained":
        row.trained_on = day
    elif new_status == "active" and row.activated_on is None:
        row.activated_on = day
    elif new_status == "terminated":
        row.terminated_on = day
    record_audit(
        session,
        actor,
        f"partners.partner.{new_status}",
        "partner",
        code,
        before=before,
        after={**_partner_state(row), "on": day.isoformat()},
        at=clock.now(),
    )
    return row


def evaluate_agent(
    session: Session,
    actor: Actor,
    clock: Clock,
    code: str,
    *,
    period_from: date,
    period_to: date,
    outcome: str,
    notes: str | None = None,
) -> AgentEvaluation:
    """Record an agent's (six-monthly) evaluation. Outcome ``terminate`` also terminates the
    agent, with the evaluation as the reason."""
    row = _partner_row(session, code)
    problems: Problems = []
    if row.kind not in AGENT_KINDS:
        problems.append(
            (
                "code",
                t("{c} bukan agen ({k})", "{c} is not an agent ({k})").format(c=code, k=row.kind),
            )
        )
    if outcome not in EVALUATION_OUTCOMES:
        problems.append(
            (
                "outcome",
                t(
                    "hasil harus salah satu dari {o}, ditemukan {v!r}",
                    "expected one of {o}, got {v!r}",
                ).format(o=", ".join(EVALUATION_OUTCOMES), v=outcome),
            )
        )
    if period_to < period_from:
        problems.append(
            ("period_to", t("akhir periode sebelum awalnya", "the period ends before it starts"))
        )
    _raise(t("Evaluasi tidak valid", "Invalid evaluation"), problems, code)
    exists = session.scalar(
        select(AgentEvaluation.id).where(
            AgentEvaluation.partner_code == code, AgentEvaluation.period_to == period_to
        )
    )
    if exists is not None:
        raise conflict(
            t(
                f"Agen {code} sudah dievaluasi untuk periode sampai {period_to}",
                f"Agent {code} was already evaluated for the period ending {period_to}",
            ),
            code="evaluation-exists",
        )
    evaluation = AgentEvaluation(
        partner_code=code,
        period_from=period_from,
        period_to=period_to,
        evaluated_on=today(clock),
        outcome=outcome,
        notes=notes,
        evaluator=actor.name,
    )
    session.add(evaluation)
    session.flush()
    record_audit(
        session,
        actor,
        "partners.agent.evaluate",
        "agent_evaluation",
        evaluation.id,
        after={
            "partner_code": code,
            "period_from": period_from.isoformat(),
            "period_to": period_to.isoformat(),
            "outcome": outcome,
            "notes": notes,
        },
        at=clock.now(),
    )
    if outcome == "terminate" and row.status != "terminated":
        change_agent_status(
            session,
            actor,
            clock,
            code,
            "terminated",
            reason=f"evaluation {period_from.isoformat()}..{period_to.isoformat()}: {notes or 'terminate'}",
        )
    return evaluation


# -- agreements ------------------------------------------------------------------------------------


def add_agreement(
    session: Session,
    actor: Actor,
    clock: Clock,
    partner_code: str,
    *,
    scheme_name: str,
    valid_from: date,
    valid_to: date | None = None,
    scheme_version_no: int | None = None,
    parameters: AgreementParameters | None = None,
) -> Agreement:
    """Add an agreement naming a scheme version (the one in force on ``valid_from`` unless given)
    and its parameters, checked against the scheme. Agreements of one partner under one scheme
    may not overlap."""
    row = _partner_row(session, partner_code)
    params = parameters or AgreementParameters()
    problems: Problems = []
    if valid_to is not None and valid_to < valid_from:
        problems.append(("valid_to", t("berakhir sebelum mulai berlaku", "ends before it starts")))
    record, scheme_problems = _resolve_scheme(
        session, scheme_name, scheme_version_no, valid_from, valid_to
    )
    problems += scheme_problems
    if record is not None:
        problems += agreement_parameter_problems(record.definition, params, row.kind)
    _raise(t("Perjanjian tidak valid", "Invalid agreement"), problems, partner_code)
    assert record is not None
    overlapping = session.scalar(
        select(Agreement.id).where(
            Agreement.partner_code == partner_code,
            Agreement.scheme_name == scheme_name,
            Agreement.status == "active",
            Agreement.valid_from <= (valid_to or date.max),
            (Agreement.valid_to.is_(None)) | (Agreement.valid_to >= valid_from),
        )
    )
    if overlapping is not None:
        raise conflict(
            t(
                f"Mitra {partner_code} sudah mempunyai perjanjian {scheme_name} yang tumpang tindih "
                f"(nomor {overlapping}); akhiri dulu perjanjian itu",
                f"Partner {partner_code} already has an overlapping {scheme_name} agreement "
                f"(id {overlapping}); end it first",
            ),
            code="agreement-overlap",
        )
    agreement = Agreement(
        partner_code=partner_code,
        scheme_name=scheme_name,
        scheme_version=record.version,
        parameters=_parameters_json(params),
        valid_from=valid_from,
        valid_to=valid_to,
        status="active",
        created_at=clock.now(),
    )
    session.add(agreement)
    session.flush()
    record_audit(
        session,
        actor,
        "partners.agreement.add",
        "partner_agreement",
        agreement.id,
        after=_agreement_state(agreement),
        at=clock.now(),
    )
    return agreement


def _agreement_state(row: Agreement) -> dict[str, Any]:
    return {
        "partner_code": row.partner_code,
        "scheme": row.scheme_name,
        "scheme_version": row.scheme_version,
        "parameters": row.parameters,
        "valid_from": row.valid_from.isoformat(),
        "valid_to": None if row.valid_to is None else row.valid_to.isoformat(),
        "status": row.status,
        "status_reason": row.status_reason,
    }


def end_agreement(
    session: Session, actor: Actor, clock: Clock, agreement_id: int, *, on: date, reason: str
) -> Agreement:
    """End an agreement early: its validity ends on ``on`` (not before it started) and, when
    ``on`` is before today, it is marked terminated. A reason is required."""
    row = session.get(Agreement, agreement_id)
    if row is None:
        from cakupan.partners.queries import agreement

        agreement(session, agreement_id)  # raises NOT_FOUND
        raise AssertionError  # pragma: no cover
    if not reason.strip():
        raise invalid(
            "reason", t("alasan wajib diisi", "a reason is required"), code="reason-required"
        )
    if on < row.valid_from or (row.valid_to is not None and on > row.valid_to):
        raise invalid(
            "on",
            t(
                "tanggal akhir harus dalam masa berlaku {f}..{e}, ditemukan {d}",
                "the end date must lie within the validity {f}..{e}, got {d}",
            ).format(f=row.valid_from, e=row.valid_to or "-", d=on),
            record=str(agreement_id),
        )
    before = _agreement_state(row)
    row.valid_to = on
    row.status_reason = reason.strip()
    record_audit(
        session,
        actor,
        "partners.agreement.end",
        "partner_agreement",
        agreement_id,
        before=before,
        after=_agreement_state(row),
        at=clock.now(),
    )
    return row


# -- applications ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewApplication:
    """An agency's application: the partner it would become and the agreement it asks for."""

    code: str
    name: str
    kind: str
    branch_code: str
    scheme_name: str
    valid_from: date
    valid_to: date | None = None
    parent_code: str | None = None
    parameters: AgreementParameters = field(default_factory=AgreementParameters)


def submit_application(
    session: Session, actor: Actor, clock: Clock, new: NewApplication
) -> PartnerApplication:
    """Record an application (status ``submitted``) after checking what the approval will need:
    code free, kind, parent, branch, scheme and parameters."""
    problems: Problems = []
    if (p := code_problem(new.code)) is not None:
        problems.append(("code", p))
    elif session.get(Partner, new.code) is not None:
        problems.append(
            (
                "code",
                t("kode {c} sudah dipakai mitra lain", "code {c} is already used").format(
                    c=new.code
                ),
            )
        )
    problems += _name_and_kind_problems(new.name, new.kind)
    parent, unknown_parent = _parent(session, new.parent_code)
    if unknown_parent is not None:
        problems.append(unknown_parent)
    elif new.kind in PARTNER_KINDS and (
        p := parent_problem(new.kind, new.parent_code, parent.kind if parent else None)
    ):
        problems.append(("parent_code", p))
    if (p := _BranchCheck(session).problem(new.branch_code)) is not None:
        problems.append(("branch_code", p))
    record, scheme_problems = _resolve_scheme(
        session, new.scheme_name, None, new.valid_from, new.valid_to
    )
    problems += scheme_problems
    if record is not None:
        problems += agreement_parameter_problems(
            record.definition, new.parameters, new.kind if new.kind in PARTNER_KINDS else None
        )
    _raise(t("Pengajuan tidak valid", "Invalid application"), problems, new.code)
    assert record is not None
    now = clock.now()
    row = PartnerApplication(
        code=new.code,
        name=new.name.strip(),
        kind=new.kind,
        parent_code=new.parent_code or None,
        branch_code=new.branch_code,
        scheme_name=new.scheme_name,
        scheme_version=record.version,
        parameters=_parameters_json(new.parameters),
        valid_from=new.valid_from,
        valid_to=new.valid_to,
        status="submitted",
        submitted_at=now,
        submitted_by=actor.name,
    )
    session.add(row)
    session.flush()
    record_audit(
        session,
        actor,
        "partners.application.submit",
        "partner_application",
        row.id,
        after={"code": row.code, "name": row.name, "kind": row.kind, "scheme": row.scheme_name},
        at=now,
    )
    return row


def _application_row(
    session: Session, application_id: int, allowed: set[str]
) -> PartnerApplication:
    from cakupan.partners.queries import application

    application(session, application_id)  # NOT_FOUND with the standard message
    row = session.get(PartnerApplication, application_id)
    assert row is not None
    if row.status not in allowed:
        raise conflict(
            t(
                f"Pengajuan {application_id} berstatus {row.status}; tindakan ini memerlukan status "
                f"{' atau '.join(sorted(allowed))}",
                f"Application {application_id} is {row.status}; this needs status "
                f"{' or '.join(sorted(allowed))}",
            ),
            code="application-status",
        )
    return row


def add_application_document(
    session: Session,
    actor: Actor,
    clock: Clock,
    application_id: int,
    *,
    kind: str,
    title: str,
    file_reference: str,
    sha256: str,
    size_bytes: int,
) -> ApplicationDocument:
    """Attach a document's metadata (kind, title, where the file is, its SHA-256 and size) to an
    application that is not decided yet. The same file twice is a CONFLICT."""
    row = _application_row(session, application_id, {"submitted", "in_review"})
    problems: Problems = []
    if kind not in DOCUMENT_KINDS:
        problems.append(
            (
                "kind",
                t(
                    "jenis dokumen harus salah satu dari {k}, ditemukan {v!r}",
                    "expected one of {k}, got {v!r}",
                ).format(k=", ".join(DOCUMENT_KINDS), v=kind),
            )
        )
    if not title.strip():
        problems.append(("title", t("judul wajib diisi", "a title is required")))
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        problems.append(
            (
                "sha256",
                t("SHA-256 harus 64 digit heksadesimal", "expected 64 lower-case hex digits"),
            )
        )
    _raise(t("Dokumen tidak valid", "Invalid document"), problems, str(application_id))
    duplicate = session.scalar(
        select(ApplicationDocument.id).where(
            ApplicationDocument.application_id == application_id,
            ApplicationDocument.sha256 == sha256,
        )
    )
    if duplicate is not None:
        raise conflict(
            t(
                f"Berkas ini sudah dilampirkan (dokumen {duplicate})",
                f"This file is already attached (document {duplicate})",
            ),
            code="document-exists",
        )
    document = ApplicationDocument(
        application_id=row.id,
        kind=kind,
        title=title.strip(),
        file_reference=file_reference,
        sha256=sha256,
        size_bytes=size_bytes,
        added_at=clock.now(),
        added_by=actor.name,
    )
    session.add(document)
    session.flush()
    record_audit(
        session,
        actor,
        "partners.application.document",
        "partner_application",
        row.id,
        after={"document_id": document.id, "kind": kind, "title": title, "sha256": sha256},
        at=clock.now(),
    )
    return document


def attach_file(
    session: Session,
    actor: Actor,
    clock: Clock,
    application_id: int,
    path: Path,
    *,
    kind: str,
    title: str | None = None,
) -> ApplicationDocument:
    """Attach a local file by reference: its path, SHA-256 and size are recorded (the file is
    not copied into the database)."""
    import hashlib

    if not path.is_file():
        raise invalid("file", t(f"berkas {path} tidak ditemukan", f"file {path} not found"))
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return add_application_document(
        session,
        actor,
        clock,
        application_id,
        kind=kind,
        title=title or path.name,
        file_reference=str(path.resolve()),
        sha256=digest.hexdigest(),
        size_bytes=path.stat().st_size,
    )


#: The documents an application needs before approval (domain.md section 4).
REQUIRED_DOCUMENTS = ("legal", "ecosystem_profile", "potential_analysis")


def review_application(
    session: Session, actor: Actor, clock: Clock, application_id: int, *, note: str | None = None
) -> PartnerApplication:
    """Start the review of a submitted application."""
    row = _application_row(session, application_id, {"submitted"})
    row.status = "in_review"
    row.review_note = note
    row.reviewed_by = actor.name
    row.reviewed_at = clock.now()
    record_audit(
        session,
        actor,
        "partners.application.review",
        "partner_application",
        row.id,
        before={"status": "submitted"},
        after={"status": "in_review", "note": note},
        at=clock.now(),
    )
    return row


def approve_application(
    session: Session, actor: Actor, clock: Clock, application_id: int, *, reason: str | None = None
) -> PartnerApplication:
    """Approve an application under review: requires the legal papers, the ecosystem profile and
    the potential analysis; creates the partner and its agreement in the same transaction."""
    row = _application_row(session, application_id, {"in_review"})
    kinds = set(
        session.scalars(
            select(ApplicationDocument.kind).where(ApplicationDocument.application_id == row.id)
        )
    )
    missing = [k for k in REQUIRED_DOCUMENTS if k not in kinds]
    if missing:
        from cakupan.labels import label

        raise invalid(
            "documents",
            Text(
                id="dokumen wajib belum dilampirkan: "
                + ", ".join(label("document_kind", k, "id") for k in missing),
                en="required documents are missing: "
                + ", ".join(label("document_kind", k, "en") for k in missing),
            ),
            record=str(application_id),
            code="documents-missing",
        )
    create_partner(
        session,
        actor,
        clock,
        NewPartner(
            code=row.code,
            name=row.name,
            kind=row.kind,
            branch_code=row.branch_code,
            parent_code=row.parent_code,
        ),
    )
    add_agreement(
        session,
        actor,
        clock,
        row.code,
        scheme_name=row.scheme_name,
        scheme_version_no=row.scheme_version,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        parameters=AgreementParameters.model_validate(row.parameters),
    )
    return _decide(session, actor, clock, row, "approved", reason)


def reject_application(
    session: Session, actor: Actor, clock: Clock, application_id: int, *, reason: str
) -> PartnerApplication:
    """Reject an application (submitted or under review); a reason is required."""
    if not reason.strip():
        raise invalid(
            "reason", t("alasan wajib diisi", "a reason is required"), code="reason-required"
        )
    row = _application_row(session, application_id, {"submitted", "in_review"})
    return _decide(session, actor, clock, row, "rejected", reason)


def _decide(
    session: Session,
    actor: Actor,
    clock: Clock,
    row: PartnerApplication,
    status: str,
    reason: str | None,
) -> PartnerApplication:
    before = row.status
    row.status = status
    row.decision_reason = reason
    row.decided_by = actor.name
    row.decided_at = clock.now()
    record_audit(
        session,
        actor,
        f"partners.application.{'approve' if status == 'approved' else 'reject'}",
        "partner_application",
        row.id,
        before={"status": before},
        after={"status": status, "reason": reason},
        at=clock.now(),
    )
    return row


# -- the partner import ----------------------------------------------------------------------------


@dataclass
class _Row:
    record: Record
    code: str
    name: str
    kind: str
    parent_code: str | None
    branch_code: str
    scheme: str
    rate: Decimal | None
    valid_from: date | None
    valid_to: date | None
    problems: Problems = field(default_factory=list)


def _parse(record: Record) -> _Row:
    problems: Problems = list(record.shape_problems())
    code, name, kind = record["code"], record["name"], record["kind"].lower()
    if (p := code_problem(code)) is not None:
        problems.append(("code", p))
    if (bad := text_problem(name, t("nama", "the name"))) is not None:
        problems.append(("name", bad))
    elif not name:
        problems.append(("name", t("nama wajib diisi", "a name is required")))
    elif len(name) > 200:
        problems.append(("name", t("nama paling panjang 200 karakter", "at most 200 characters")))
    if (p := kind_problem(kind)) is not None:
        problems.append(("kind", p))
    parent = record["parent_code"] or None
    if parent is not None and (p := code_problem(parent)) is not None:
        problems.append(("parent_code", p))
    elif parent is not None and parent == code:
        problems.append(
            (
                "parent_code",
                t(
                    "mitra tidak dapat menjadi induknya sendiri",
                    "a partner cannot be its own parent",
                ),
            )
        )
    rate: Decimal | None = None
    if record["commission_rate"]:
        try:
            rate = parse_rate_percent(record["commission_rate"])
        except ValueError as error:
            problems.append(
                (
                    "commission_rate",
                    t(
                        "harus persentase desimal seperti 3 atau 2.5, ditemukan {v!r}",
                        "expected a decimal percentage such as 3 or 2.5, got {v!r}",
                    ).format(v=record["commission_rate"]),
                )
            )
            del error
    dates: dict[str, date | None] = {}
    for column in ("valid_from", "valid_to"):
        try:
            dates[column] = parse_optional_date(record[column])
        except ValueError:
            dates[column] = None
            problems.append(
                (
                    column,
                    t(
                        "harus tanggal YYYY-MM-DD, ditemukan {v!r}",
                        "expected a date as YYYY-MM-DD, got {v!r}",
                    ).format(v=record[column]),
                )
            )
    scheme = record["scheme"]
    valid_from, valid_to = dates["valid_from"], dates["valid_to"]
    if scheme and valid_from is None and record["valid_from"] == "":
        problems.append(
            ("valid_from", t("wajib diisi bila skema diisi", "required when a scheme is given"))
        )
    if not scheme:
        for column in ("commission_rate", "valid_from", "valid_to"):
            if record[column]:
                problems.append(
                    (
                        column,
                        t(
                            "hanya diisi bila kolom scheme diisi, ditemukan {v!r}",
                            "only allowed with a scheme, got {v!r}",
                        ).format(v=record[column]),
                    )
                )
    if valid_from and valid_to and valid_to < valid_from:
        problems.append(("valid_to", t("sebelum valid_from", "before valid_from")))
    return _Row(
        record=record,
        code=code,
        name=name,
        kind=kind,
        parent_code=parent,
        branch_code=record["branch_code"].upper(),
        scheme=scheme,
        rate=rate,
        valid_from=valid_from,
        valid_to=valid_to,
        problems=problems,
    )


def import_partners(
    engine: Engine,
    actor: Actor,
    clock: Clock,
    path: Path | str,
    *,
    partial: bool = False,
) -> ImportResult:
    """Import partners and agents with their agreements from a CSV/XLSX file (columns
    :data:`IMPORT_COLUMNS`). Parents may come later in the same file; a branch left empty is
    inherited from the parent. A row identical to what is stored (partner and agreement) is a
    duplicate; a code stored with other values is rejected. All-or-nothing unless ``partial``
    (then a row whose parent is rejected is rejected too). One audit row per file."""
    with open_records(path, required=IMPORT_COLUMNS) as records:

        def post(session: Session, result: ImportResult) -> None:
            rows = [_parse(record) for record in records]
            _post_rows(session, clock, rows, result)

        return post_file(engine, actor, "partners", records.source, post, partial=partial)


def _post_rows(session: Session, clock: Clock, rows: list[_Row], result: ImportResult) -> None:
    codes = {row.code for row in rows} | {row.parent_code for row in rows if row.parent_code}
    stored: dict[str, Partner] = {}
    for batch in in_batches(sorted(c for c in codes if c), 500):
        for partner_row in session.scalars(select(Partner).where(Partner.code.in_(batch))):
            stored[partner_row.code] = partner_row
    stored_agreements: dict[tuple[str, str, date], Agreement] = {}
    for batch in in_batches(sorted(stored), 500):
        for agreement_row in session.scalars(
            select(Agreement).where(Agreement.partner_code.in_(batch))
        ):
            stored_agreements[
                (agreement_row.partner_code, agreement_row.scheme_name, agreement_row.valid_from)
            ] = agreement_row

    # Within the file: the first row of a code wins; a repeat is a duplicate when identical.
    first: dict[str, _Row] = {}
    duplicate_rows: set[int] = set()
    for row in rows:
        if row.problems or row.code not in first:
            if not row.problems:
                first[row.code] = row
            continue
        earlier = first[row.code]
        if _same_row(earlier, row):
            duplicate_rows.add(row.record.row)
        else:
            row.problems.append(
                (
                    "code",
                    t(
                        "kode {c} sudah muncul di baris {r} dengan isi berbeda",
                        "code {c} already appears on row {r} with different values",
                    ).format(c=row.code, r=earlier.record.row),
                )
            )

    # Resolve parents (stored, or valid rows of this file, in any order) to a fixed point.
    candidates = {code: row for code, row in first.items() if not row.problems}

    def kind_of(code: str) -> str | None:
        if code in candidates:
            return candidates[code].kind
        return stored[code].kind if code in stored else None

    def branch_of(code: str, seen: frozenset[str] = frozenset()) -> str:
        if code in stored and code not in candidates:
            return stored[code].branch_code
        row = candidates.get(code)
        if row is None or code in seen:
            return ""
        if row.branch_code:
            return row.branch_code
        return branch_of(row.parent_code, seen | {code}) if row.parent_code else ""

    changed = True
    while changed:
        changed = False
        for code, row in list(candidates.items()):
            problem: Text | None = None
            if row.parent_code and kind_of(row.parent_code) is None:
                problem = t(
                    "induk {p} tidak dikenal (tidak tersimpan dan tidak ada di berkas, atau barisnya ditolak)",
                    "unknown parent {p} (not stored and not a valid row of this file)",
                ).format(p=row.parent_code)
            elif row.parent_code and _has_cycle(code, candidates, stored):
                problem = t(
                    "hierarki induk membentuk lingkaran", "the parent hierarchy forms a cycle"
                )
            else:
                problem = parent_problem(
                    row.kind, row.parent_code, kind_of(row.parent_code) if row.parent_code else None
                )
            if problem is not None:
                row.problems.append(("parent_code", problem))
                del candidates[code]
                changed = True

    branch_check = _BranchCheck(session)
    for row in candidates.values():
        row.branch_code = branch_of(row.code)
        if (p := branch_check.problem(row.branch_code)) is not None:
            row.problems.append(("branch_code", p))

    # Agreements: scheme version, kind, parameters; then compare with what is stored.
    new_partners: list[_Row] = []
    new_agreements: list[tuple[_Row, SchemeRecord]] = []
    for row in list(candidates.values()):
        record: SchemeRecord | None = None
        if not row.problems and row.scheme and row.valid_from is not None:
            record, problems = _resolve_scheme(
                session, row.scheme, None, row.valid_from, row.valid_to
            )
            row.problems += problems
            if record is not None:
                row.problems += agreement_parameter_problems(
                    record.definition,
                    AgreementParameters(commission_rate_percent=row.rate),
                    row.kind,
                )
        existing = stored.get(row.code)
        if not row.problems and existing is not None:
            differing = _differing_field(existing, row)
            if differing is not None:
                row.problems.append(differing)
        if not row.problems and record is not None and row.valid_from is not None:
            stored_agreement = stored_agreements.get((row.code, row.scheme, row.valid_from))
            if stored_agreement is not None and not _same_agreement(stored_agreement, row):
                row.problems.append(
                    (
                        "scheme",
                        t(
                            "perjanjian {s} mulai {d} sudah tersimpan dengan nilai lain (valid_to {e}, parameter {p})",
                            "a {s} agreement from {d} is stored with other values (valid_to {e}, parameters {p})",
                        ).format(
                            s=row.scheme,
                            d=row.valid_from.isoformat(),
                            e=stored_agreement.valid_to or "-",
                            p=stored_agreement.parameters,
                        ),
                    )
                )
            elif stored_agreement is None:
                new_agreements.append((row, record))
        if row.problems:
            del candidates[row.code]
            continue
        if existing is None:
            new_partners.append(row)

    # A row whose parent was rejected after all is rejected too (fixed point again).
    changed = True
    while changed:
        changed = False
        for row in new_partners:
            if (
                row.code in candidates
                and row.parent_code
                and row.parent_code not in stored
                and row.parent_code not in candidates
            ):
                row.problems.append(
                    (
                        "parent_code",
                        t("baris induk {p} ditolak", "the row of parent {p} was rejected").format(
                            p=row.parent_code
                        ),
                    )
                )
                del candidates[row.code]
                changed = True
    new_partners = [row for row in new_partners if row.code in candidates]
    new_agreements = [(row, rec) for row, rec in new_agreements if row.code in candidates]

    # Write: partners parents first, then agreements; set-based inserts.
    now = clock.now()
    on = today(clock)
    for level in _levels(new_partners, stored):
        session.execute(
            insert(Partner),
            [
                {
                    "code": row.code,
                    "name": row.name,
                    "kind": row.kind,
                    "parent_code": row.parent_code,
                    "branch_code": row.branch_code,
                    "status": "active",
                    "status_reason": None,
                    "recruited_on": None,
                    "trained_on": None,
                    "activated_on": row.valid_from or on,
                    "terminated_on": None,
                    "created_at": now,
                }
                for row in level
            ],
        )
    if new_agreements:
        session.execute(
            insert(Agreement),
            [
                {
                    "partner_code": row.code,
                    "scheme_name": row.scheme,
                    "scheme_version": rec.version,
                    "parameters": _parameters_json(
                        AgreementParameters(commission_rate_percent=row.rate)
                    ),
                    "valid_from": row.valid_from,
                    "valid_to": row.valid_to,
                    "status": "active",
                    "status_reason": None,
                    "created_at": now,
                }
                for row, rec in new_agreements
            ],
        )

    written = {row.code for row in new_partners} | {row.code for row, _ in new_agreements}
    for row in rows:
        if row.problems:
            result.reject(row.record.row, row.problems)
        elif row.record.row in duplicate_rows:
            result.duplicates += 1
        elif row.code in written:
            result.accepted += 1
        else:
            result.duplicates += 1


def _same_row(a: _Row, b: _Row) -> bool:
    def keys(r: _Row) -> tuple[object, ...]:
        return (
            r.name,
            r.kind,
            r.parent_code,
            r.branch_code,
            r.scheme,
            r.rate,
            r.valid_from,
            r.valid_to,
        )

    return keys(a) == keys(b)


def _differing_field(stored: Partner, row: _Row) -> tuple[str, Text] | None:
    for column, new_value in (
        ("name", row.name),
        ("kind", row.kind),
        ("parent_code", row.parent_code),
        ("branch_code", row.branch_code),
    ):
        old_value = getattr(stored, column)
        if old_value != new_value:
            return (
                column,
                t(
                    "mitra {c} sudah tersimpan dengan {f} {o!r}, ditemukan {n!r} (ubah lewat perintah mitra, bukan impor)",
                    "partner {c} is stored with {f} {o!r}, got {n!r} (change it with a partner command, not an import)",
                ).format(c=row.code, f=column, o=old_value, n=new_value),
            )
    return None


def _same_agreement(stored: Agreement, row: _Row) -> bool:
    params = _parameters_json(AgreementParameters(commission_rate_percent=row.rate))
    return stored.valid_to == row.valid_to and dict(stored.parameters) == params


def _has_cycle(code: str, candidates: dict[str, _Row], stored: dict[str, Partner]) -> bool:
    seen = {code}
    current = candidates[code].parent_code
    while current is not None and current in candidates and current not in stored:
        if current in seen:
            return True
        seen.add(current)
        current = candidates[current].parent_code
    return False


def _levels(rows: list[_Row], stored: dict[str, Partner]) -> list[list[_Row]]:
    """Rows grouped so that every parent is inserted in an earlier group."""
    pending = {row.code: row for row in rows}
    done = set(stored)
    levels: list[list[_Row]] = []
    while pending:
        level = [
            row
            for row in pending.values()
            if row.parent_code is None or row.parent_code in done or row.parent_code not in pending
        ]
        for row in level:
            del pending[row.code]
        done |= {row.code for row in level}
        levels.append(level)
    return levels
