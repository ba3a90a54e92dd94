"""Pages of the partners area (issue 17): the agents list and an agent's page with its lifecycle
(recruit, train, activate, suspend, reinstate, terminate, the six-monthly evaluation), and the
agency applications (submit, attach documents, review, approve, reject). Every write is the
action the command line calls (``cakupan partners agents ...`` / ``partners applications ...``),
with the same rules and errors, audited; reads are scoped like ``list_partners``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from cakupan.auth import Actor, Role
from cakupan.dates import JAKARTA, Clock, Month
from cakupan.errors import CakupanError, forbidden, invalid, not_found
from cakupan.i18n import t
from cakupan.incentives.definition import AgreementParameters
from cakupan.incentives.queries import scheme_names
from cakupan.partners import actions, queries
from cakupan.partners.models import DOCUMENT_KINDS, EVALUATION_OUTCOMES, PARTNER_KINDS
from cakupan.partners.rules import AGENT_KINDS, TRANSITIONS, parse_rate_percent
from cakupan.web.deps import AppClock, CsrfProtected, DbSession, PageActor, RowId
from cakupan.web.templating import render

router = APIRouter(include_in_schema=False)

#: Roles that recruit agents and move them along their lifecycle (branch staff who hold the
#: partner relations: the head of membership and the ARK), and the administrator.
LIFECYCLE_ROLES = frozenset({Role.ADMIN, Role.KABID, Role.ARK})
#: Roles that read agency applications (scoped to the branch applied to).
APPLICATION_READERS = frozenset(
    {Role.ADMIN, Role.HEAD_OFFICE, Role.AUDITOR, Role.REGIONAL, Role.KABID, Role.ARK}
)
#: Roles that record an application and its documents and take it into review.
APPLICATION_CLERKS = frozenset({Role.ADMIN, Role.KABID, Role.ARK})
#: Roles that decide (approve creates the partner and its agreement; reject).
APPLICATION_DECIDERS = frozenset({Role.ADMIN, Role.KABID})
#: The largest document accepted for hashing (the file itself is not kept, docs/partners.md).
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def links_for(role: Role) -> list[dict[str, Any]]:
    """The home page's links to the agents and applications pages a role may use."""
    links: list[dict[str, Any]] = [
        {
            "href": "/agents",
            "label": t("Agen", "Agents"),
            "hint": t(
                "Status, aktivitas, bulan tanpa aktivitas, evaluasi",
                "Status, activity, idle months, evaluations",
            ),
        }
    ]
    if role in APPLICATION_READERS:
        links.append(
            {
                "href": "/partners/applications",
                "label": t("Pengajuan keagenan", "Agency applications"),
                "hint": t("Dokumen, tinjauan, keputusan", "Documents, review, decision"),
            }
        )
    return links


def _this_month(clock: Clock) -> Month:
    return Month.of(clock.now().astimezone(JAKARTA).date())


def _today(clock: Clock) -> date:
    return clock.now().astimezone(JAKARTA).date()


def _visible_agent(db: Session, actor: Actor, code: str, month: Month) -> queries.AgentStanding:
    found = queries.agent_standings(db, actor, month, code=code)
    if not found:
        raise not_found(
            t(f"Agen {code} tidak ditemukan", f"Agent {code} not found"),
            code="partner-not-found",
        )
    return found[0]


def _day(name: str, value: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise invalid(
            name, t(f"tanggal YYYY-MM-DD, bukan {value!r}", f"a date YYYY-MM-DD, got {value!r}")
        ) from None


def _required_day(name: str, value: str) -> date:
    day = _day(name, value)
    if day is None:
        raise invalid(name, t("tanggal wajib diisi", "a date is required"))
    return day


# -- agents ----------------------------------------------------------------------------------------


@router.get("/agents")
def agents_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    status: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The agents the user may see: status, last activity, idle months this month, standing
    under the scheme's termination rule, next evaluation."""
    month = _this_month(clock)
    rows = queries.agent_standings(db, actor, month)
    if status:
        rows = [r for r in rows if r.info.status == status]
    return render(
        request,
        "partners_agents.html",
        {
            "rows": rows,
            "month": month,
            "status": status,
            "statuses": tuple(TRANSITIONS),
            "can_recruit": actor.role in LIFECYCLE_ROLES,
            "can_read_applications": actor.role in APPLICATION_READERS,
            "today": _today(clock),
        },
    )


def _agent_page(
    request: Request,
    db: Session,
    actor: Actor,
    clock: Clock,
    code: str,
    *,
    problems: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    month = _this_month(clock)
    agent = _visible_agent(db, actor, code, month)
    return render(
        request,
        "partners_agent.html",
        {
            "agent": agent,
            "info": agent.info,
            "month": month,
            "today": _today(clock),
            "next_statuses": sorted(TRANSITIONS[agent.info.status]),
            "can_write": actor.role in LIFECYCLE_ROLES,
            "evaluations": queries.evaluations_of(db, code),
            "agreements": queries.agreements_of(db, code),
            "outcomes": EVALUATION_OUTCOMES,
            "problems": problems or [],
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


@router.get("/agents/new")
def recruit_form(request: Request, db: DbSession, actor: PageActor) -> Response:
    """The form to record a newly recruited agent."""
    if actor.role not in LIFECYCLE_ROLES:
        raise forbidden()
    return _recruit_page(request, db, actor)


@router.get("/agents/{code}")
def agent_page(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock, code: str
) -> Response:
    """One agent within the scope: lifecycle dates, activity, evaluations, agreements, and the
    steps the user may take next."""
    return _agent_page(request, db, actor, clock, code)


def _agent_write(
    request: Request,
    db: Session,
    actor: Actor,
    clock: Clock,
    code: str,
    write: Callable[[], object],
    done: str,
) -> Response:
    """Run one lifecycle action on a visible agent: refused before anything is tried for a role
    that may not, NOT_FOUND outside the scope; on an error the page again with the problem
    named (nothing written); else back to the agent (redirect after POST)."""
    if actor.role not in LIFECYCLE_ROLES:
        raise forbidden()
    _visible_agent(db, actor, code, _this_month(clock))
    try:
        write()
    except CakupanError as error:
        db.rollback()
        return _agent_page(
            request,
            db,
            actor,
            clock,
            code,
            problems=[error.title, *error.problems],
            status_code=error.kind.http_status,
        )
    db.commit()
    return RedirectResponse(f"/agents/{code}?done={done}", status_code=303)


@router.post("/agents/{code}/status", dependencies=[CsrfProtected])
def agent_status(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    code: str,
    to: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Train, activate, suspend, reinstate (suspended -> active) or terminate an agent through
    ``change_agent_status`` (a reason for suspend and terminate)."""

    def write() -> object:
        return actions.change_agent_status(
            db, actor, clock, code, to, on=_day("on", on), reason=reason or None
        )

    return _agent_write(request, db, actor, clock, code, write, to)


@router.post("/agents/{code}/evaluations", dependencies=[CsrfProtected])
def agent_evaluate(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    code: str,
    period_from: Annotated[str, Form(max_length=10)] = "",
    period_to: Annotated[str, Form(max_length=10)] = "",
    outcome: Annotated[str, Form(max_length=20)] = "",
    notes: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record the six-monthly evaluation (outcome "terminate" also terminates the agent)."""

    def write() -> object:
        return actions.evaluate_agent(
            db,
            actor,
            clock,
            code,
            period_from=_required_day("period_from", period_from),
            period_to=_required_day("period_to", period_to),
            outcome=outcome,
            notes=notes.strip() or None,
        )

    return _agent_write(request, db, actor, clock, code, write, "evaluated")


def _parent_choices(db: Session, actor: Actor) -> list[queries.PartnerInfo]:
    return [
        p for p in queries.list_partners(db, actor) if not p.is_agent and p.status != "terminated"
    ]


def _recruit_page(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    problems: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "partners_recruit.html",
        {
            "kinds": sorted(AGENT_KINDS),
            "parents": _parent_choices(db, actor),
            "values": values or {},
            "problems": problems or [],
            "own_branch": actor.branch_code,
        },
        status_code=status_code,
    )


def _out_of_scope(field_name: str, value: str) -> CakupanError:
    return invalid(
        field_name,
        t(f"{value} di luar cakupan Anda", f"{value} is outside your scope"),
        code="out-of-scope",
    )


@router.post("/agents", dependencies=[CsrfProtected])
def recruit_submit(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    code: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=20)] = "",
    parent_code: Annotated[str, Form(max_length=40)] = "",
    branch_code: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Recruit an agent (status recruited) through ``create_partner``, as ``partners agents
    recruit`` does; a parent or branch outside the user's scope is refused."""
    if actor.role not in LIFECYCLE_ROLES:
        raise forbidden()
    values = {
        "code": code.strip(),
        "name": name,
        "kind": kind,
        "parent_code": parent_code.strip(),
        "branch_code": branch_code.strip().upper(),
    }
    try:
        if kind not in AGENT_KINDS:
            raise invalid(
                "kind",
                t(
                    "agen harus berjenis {k}, bukan {v!r}", "an agent is of kind {k}, got {v!r}"
                ).format(k=", ".join(sorted(AGENT_KINDS)), v=kind),
            )
        visible = {p.code for p in _parent_choices(db, actor)}
        if values["parent_code"] and values["parent_code"] not in visible:
            raise _out_of_scope("parent_code", values["parent_code"])
        if actor.branch_code and values["branch_code"] not in ("", actor.branch_code):
            raise _out_of_scope("branch_code", values["branch_code"])
        branch = values["branch_code"] or (None if values["parent_code"] else actor.branch_code)
        actions.create_partner(
            db,
            actor,
            clock,
            actions.NewPartner(
                code=values["code"],
                name=name,
                kind=kind,
                branch_code=branch,
                parent_code=values["parent_code"] or None,
            ),
            status="recruited",
        )
    except CakupanError as error:
        db.rollback()
        return _recruit_page(
            request,
            db,
            actor,
            values=values,
            problems=[error.title, *error.problems],
            status_code=error.kind.http_status,
        )
    db.commit()
    return RedirectResponse(f"/agents/{values['code']}?done=recruited", status_code=303)


# -- agency applications ---------------------------------------------------------------------------


@router.get("/partners/applications")
def applications_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    status: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Agency applications of the user's branch (region, everything), newest first."""
    if actor.role not in APPLICATION_READERS:
        raise forbidden()
    return render(
        request,
        "partners_applications.html",
        {
            "rows": queries.visible_applications(db, actor, status or None),
            "status": status,
            "statuses": ("submitted", "in_review", "approved", "rejected"),
            "can_submit": actor.role in APPLICATION_CLERKS,
        },
    )


def _application_form(
    request: Request,
    db: Session,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    problems: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "partners_application_new.html",
        {
            "kinds": PARTNER_KINDS,
            "schemes": sorted(scheme_names(db)),
            "parents": _parent_choices(db, actor),
            "values": values or {"branch_code": actor.branch_code or ""},
            "problems": problems or [],
        },
        status_code=status_code,
    )


@router.get("/partners/applications/new")
def application_new(request: Request, db: DbSession, actor: PageActor) -> Response:
    """The form to record an agency's application."""
    if actor.role not in APPLICATION_CLERKS:
        raise forbidden()
    return _application_form(request, db, actor)


@router.post("/partners/applications", dependencies=[CsrfProtected])
def application_submit(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    code: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=20)] = "",
    parent_code: Annotated[str, Form(max_length=40)] = "",
    branch_code: Annotated[str, Form(max_length=10)] = "",
    scheme: Annotated[str, Form(max_length=60)] = "",
    valid_from: Annotated[str, Form(max_length=10)] = "",
    valid_to: Annotated[str, Form(max_length=10)] = "",
    commission_rate: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Record an application through ``submit_application`` (the checks the approval needs)."""
    if actor.role not in APPLICATION_CLERKS:
        raise forbidden()
    values = {
        "code": code.strip(),
        "name": name,
        "kind": kind,
        "parent_code": parent_code.strip(),
        "branch_code": branch_code.strip().upper(),
        "scheme": scheme,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "commission_rate": commission_rate,
    }
    try:
        if actor.branch_code and values["branch_code"] != actor.branch_code:
            raise _out_of_scope("branch_code", values["branch_code"] or "-")
        rate = None
        if commission_rate.strip():
            try:
                rate = parse_rate_percent(commission_rate)
            except ValueError:
                raise invalid(
                    "commission_rate",
                    t(
                        f"persentase seperti 3 atau 2,5, bukan {commission_rate!r}",
                        f"a percentage such as 3 or 2.5, got {commission_rate!r}",
                    ),
                ) from None
        row = actions.submit_application(
            db,
            actor,
            clock,
            actions.NewApplication(
                code=values["code"],
                name=name,
                kind=kind,
                branch_code=values["branch_code"],
                scheme_name=scheme,
                valid_from=_required_day("valid_from", valid_from),
                valid_to=_day("valid_to", valid_to),
                parent_code=values["parent_code"] or None,
                parameters=AgreementParameters(commission_rate_percent=rate),
            ),
        )
    except CakupanError as error:
        db.rollback()
        return _application_form(
            request,
            db,
            actor,
            values=values,
            problems=[error.title, *error.problems],
            status_code=error.kind.http_status,
        )
    db.commit()
    return RedirectResponse(f"/partners/applications/{row.id}", status_code=303)


def _application_page(
    request: Request,
    db: Session,
    actor: Actor,
    application_id: int,
    *,
    problems: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    found = queries.visible_application(db, actor, application_id)
    kinds = {d["kind"] for d in found["documents"]}
    return render(
        request,
        "partners_application.html",
        {
            "app": found,
            "document_kinds": DOCUMENT_KINDS,
            "missing": [k for k in actions.REQUIRED_DOCUMENTS if k not in kinds],
            "can_clerk": actor.role in APPLICATION_CLERKS,
            "can_decide": actor.role in APPLICATION_DECIDERS,
            "problems": problems or [],
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


@router.get("/partners/applications/{application_id}")
def application_page(
    request: Request, db: DbSession, actor: PageActor, application_id: RowId
) -> Response:
    """One application with its documents and the next steps the user may take."""
    if actor.role not in APPLICATION_READERS:
        raise forbidden()
    return _application_page(request, db, actor, application_id)


def _application_write(
    request: Request,
    db: Session,
    actor: Actor,
    application_id: int,
    roles: frozenset[Role],
    write: Callable[[], object],
    done: str,
) -> Response:
    if actor.role not in roles:
        raise forbidden()
    queries.visible_application(db, actor, application_id)  # NOT_FOUND outside the scope
    try:
        write()
    except CakupanError as error:
        db.rollback()
        return _application_page(
            request,
            db,
            actor,
            application_id,
            problems=[error.title, *error.problems],
            status_code=error.kind.http_status,
        )
    db.commit()
    return RedirectResponse(f"/partners/applications/{application_id}?done={done}", status_code=303)


@router.post("/partners/applications/{application_id}/documents", dependencies=[CsrfProtected])
async def application_document(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    application_id: RowId,
) -> Response:
    """Attach a document: the uploaded file is hashed (SHA-256, size) and its metadata recorded
    through ``add_application_document``; the file itself is not kept (the reference says where
    the original is, as with ``partners applications attach``)."""
    form = await request.form()
    kind = str(form.get("kind") or "")
    title = str(form.get("title") or "").strip()
    reference = str(form.get("reference") or "").strip()[:500]
    upload = form.get("file")
    digest = hashlib.sha256()
    size = 0
    file_name = ""
    if isinstance(upload, UploadFile):
        file_name = getattr(upload, "filename", "") or ""
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > MAX_DOCUMENT_BYTES:
                break
            digest.update(chunk)

    def write() -> object:
        if not file_name or size == 0:
            raise invalid("file", t("pilih berkas dokumen", "choose the document's file"))
        if size > MAX_DOCUMENT_BYTES:
            raise invalid(
                "file",
                t("berkas paling besar 20 MB", "a file of at most 20 MB"),
            )
        return actions.add_application_document(
            db,
            actor,
            clock,
            application_id,
            kind=kind,
            title=title or file_name,
            file_reference=reference or file_name,
            sha256=digest.hexdigest(),
            size_bytes=size,
        )

    return _application_write(
        request, db, actor, application_id, APPLICATION_CLERKS, write, "document"
    )


@router.post("/partners/applications/{application_id}/review", dependencies=[CsrfProtected])
def application_review(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    application_id: RowId,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Take a submitted application into review."""

    def write() -> object:
        return actions.review_application(
            db, actor, clock, application_id, note=note.strip() or None
        )

    return _application_write(
        request,
        db,
        actor,
        application_id,
        APPLICATION_DECIDERS | APPLICATION_CLERKS,
        write,
        "review",
    )


@router.post("/partners/applications/{application_id}/approve", dependencies=[CsrfProtected])
def application_approve(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    application_id: RowId,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve: needs the three required documents; creates the partner and its agreement."""

    def write() -> object:
        return actions.approve_application(
            db, actor, clock, application_id, reason=reason.strip() or None
        )

    return _application_write(
        request, db, actor, application_id, APPLICATION_DECIDERS, write, "approved"
    )


@router.post("/partners/applications/{application_id}/reject", dependencies=[CsrfProtected])
def application_reject(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    application_id: RowId,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Reject, with a reason."""

    def write() -> object:
        return actions.reject_application(db, actor, clock, application_id, reason=reason)

    return _application_write(
        request, db, actor, application_id, APPLICATION_DECIDERS, write, "rejected"
    )
