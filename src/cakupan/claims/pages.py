"""Pages of the claims area: the list (JKK at risk first), the intake form, a claim's detail with
its checklist, document uploads and the workflow buttons the reader's role may use, and the
scoped document download. Writes go through :mod:`cakupan.claims.actions`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from cakupan.auth import Actor
from cakupan.claims import actions, queries
from cakupan.claims.rules import (
    ANY_STEP_ROLES,
    CONSENT_METHODS,
    DOCUMENT_LABELS,
    MAX_DOCUMENT_BYTES,
    STATE_LABELS,
    SUBMIT_ROLES,
    TRANSITIONS,
    ClaimState,
    ClaimType,
    DocumentKind,
    JhtReason,
    Relation,
)
from cakupan.dates import JAKARTA, Clock
from cakupan.errors import CakupanError, forbidden, invalid
from cakupan.i18n import t
from cakupan.web.deps import AppClock, CsrfProtected, DbSession, PageActor, RowId, request_lang
from cakupan.web.templating import render

router = APIRouter(include_in_schema=False)

FORM_FIELDS = (
    "claim_type",
    "nik",
    "event_date",
    "cause",
    "jht_reason",
    "claimant_name",
    "claimant_nik",
    "relation",
    "bank_name",
    "bank_account",
    "bank_account_holder",
)


def _today(clock: Clock) -> date:
    return clock.now().astimezone(JAKARTA).date()


def _next_steps(actor: Actor, state: str) -> list[str]:
    role = str(actor.role)
    return [
        str(to)
        for (frm, to), roles in TRANSITIONS.items()
        if str(frm) == state and (role in roles or role in ANY_STEP_ROLES)
    ]


@router.get("/claims")
def claims_page(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock, state: str | None = None
) -> Response:
    """Claims in the reader's scope, JKK claims at risk of missing their deadline first."""
    chosen = ClaimState(state) if state in {str(s) for s in ClaimState} else None
    views = queries.list_claims(db, actor, today=_today(clock), state=chosen)
    db.commit()  # unmasking is audited
    return render(
        request,
        "claims_list.html",
        {
            "views": views,
            "state": chosen,
            "states": list(ClaimState),
            "state_labels": STATE_LABELS,
            "can_submit": str(actor.role) in SUBMIT_ROLES,
        },
    )


def _form(
    request: Request,
    values: dict[str, str],
    errors: dict[str, list[str]],
    *,
    status_code: int = 200,
    error: CakupanError | None = None,
) -> Response:
    return render(
        request,
        "claims_new.html",
        {
            "values": values,
            "errors": errors,
            "error": error,
            "types": list(ClaimType),
            "relations": list(Relation),
            "jht_reasons": list(JhtReason),
        },
        status_code=status_code,
    )


@router.get("/claims/new")
def intake_form(request: Request, actor: PageActor) -> Response:
    """The intake form (branch staff; partners and agents for their own participants)."""
    if str(actor.role) not in SUBMIT_ROLES:
        raise forbidden()
    return _form(request, {}, {})


@router.post("/claims/new", dependencies=[CsrfProtected])
async def intake_submit(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock
) -> Response:
    """Take the claim in and open its page; on errors the form again with each message next to
    its field (nothing written)."""
    if str(actor.role) not in SUBMIT_ROLES:
        raise forbidden()
    form = await request.form()
    values = {name: str(form.get(name) or "").strip() for name in FORM_FIELDS}
    intake = actions.ClaimIntake(
        claim_type=values["claim_type"],
        nik=values["nik"],
        event_date=values["event_date"],
        claimant_name=values["claimant_name"],
        claimant_nik=values["claimant_nik"],
        relation=values["relation"],
        bank_name=values["bank_name"],
        bank_account=values["bank_account"],
        bank_account_holder=values["bank_account_holder"],
        cause=values["cause"] or None,
        jht_reason=(values["jht_reason"] or None) if values["claim_type"] == "jht" else None,
    )
    try:
        claim = actions.submit_claim(db, actor, intake, clock=clock)
    except CakupanError as error:
        db.rollback()
        lang = request_lang(request)
        errors: dict[str, list[str]] = {}
        for problem in error.problems:
            errors.setdefault(problem.field, []).append(problem.message.render(lang))
        return _form(request, values, errors, status_code=error.kind.http_status, error=error)
    db.commit()
    return RedirectResponse(f"/claims/{claim.id}", status_code=303)


def _detail(
    request: Request,
    db: DbSession,
    actor: Actor,
    clock: Clock,
    claim_id: RowId,
    *,
    error: CakupanError | None = None,
    status_code: int = 200,
) -> Response:
    view = queries.claim_detail(db, actor, claim_id, today=_today(clock))
    db.commit()
    return render(
        request,
        "claims_detail.html",
        {
            "v": view,
            "next_steps": _next_steps(actor, view.state),
            "state_labels": STATE_LABELS,
            "labels": {str(k): v for k, v in DOCUMENT_LABELS.items()},
            "can_upload": view.state in ("submitted", "verified"),
            "can_tell": view.state == "paid"
            and str(actor.role) in ("pap", "kabid", "admin", "head_office"),
            "consent_methods": CONSENT_METHODS,
            "max_mb": MAX_DOCUMENT_BYTES // (1024 * 1024),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/claims/{claim_id}")
def claim_page(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock, claim_id: RowId
) -> Response:
    """One claim: status and steps, amount and sources, checklist with uploads, service level."""
    return _detail(request, db, actor, clock, claim_id)


@router.post("/claims/{claim_id}/advance", dependencies=[CsrfProtected])
def claim_advance(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    claim_id: RowId,
    to: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    payment_reference: Annotated[str, Form()] = "",
) -> Response:
    """One workflow step; the refusal (missing documents, role, reference) shown on the page."""
    try:
        actions.advance_claim(
            db,
            actor,
            claim_id,
            to,
            clock=clock,
            reason=reason or None,
            payment_reference=payment_reference or None,
        )
    except CakupanError as error:
        db.rollback()
        return _detail(
            request, db, actor, clock, claim_id, error=error, status_code=error.kind.http_status
        )
    db.commit()
    return RedirectResponse(f"/claims/{claim_id}", status_code=303)


@router.post("/claims/{claim_id}/documents", dependencies=[CsrfProtected])
async def claim_upload(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    claim_id: RowId,
    file: UploadFile,
    kind: Annotated[str, Form()] = "",
) -> Response:
    """Upload one document (PDF, JPEG or PNG by content; size-limited)."""
    content = await file.read(MAX_DOCUMENT_BYTES + 1)
    try:
        actions.upload_document(
            db,
            actor,
            claim_id,
            kind,
            file_name=file.filename or "document",
            content=content,
            clock=clock,
        )
    except CakupanError as error:
        db.rollback()
        return _detail(
            request, db, actor, clock, claim_id, error=error, status_code=error.kind.http_status
        )
    db.commit()
    return RedirectResponse(f"/claims/{claim_id}", status_code=303)


@router.get("/claims/{claim_id}/documents/{kind}")
def claim_document(db: DbSession, actor: PageActor, claim_id: RowId, kind: str) -> Response:
    """A stored document, only within the claim's scope (404 otherwise), never rendered inline."""
    try:
        document_kind = DocumentKind(kind)
    except ValueError:
        raise forbidden() from None
    document = queries.document_content(db, actor, claim_id, document_kind)
    headers: dict[str, Any] = {
        "Content-Disposition": f'attachment; filename="{claim_id}-{document.kind}"',
        "X-Content-SHA256": document.sha256,
        "Cache-Control": "private, no-store",
    }
    return Response(document.content, media_type=document.content_type, headers=headers)


@router.post("/claims/{claim_id}/story", dependencies=[CsrfProtected])
def claim_story(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    claim_id: RowId,
    title: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
    consent_by: Annotated[str, Form()] = "",
    consent_on: Annotated[str, Form()] = "",
    consent_method: Annotated[str, Form()] = "",
) -> Response:
    """Turn the paid claim into a benefit story (consent recorded, no NIK)."""
    try:
        try:
            consent_day = date.fromisoformat(consent_on)
        except ValueError:
            raise invalid(
                "consent-on",
                t("tanggal YYYY-MM-DD, diterima {v!r}", "a date YYYY-MM-DD, got {v!r}").format(
                    v=consent_on
                ),
            ) from None
        created = actions.create_story(
            db,
            actor,
            claim_id,
            title=title,
            body=body,
            consent_by=consent_by,
            consent_on=consent_day,
            consent_method=consent_method,
            clock=clock,
        )
    except CakupanError as error:
        db.rollback()
        return _detail(
            request, db, actor, clock, claim_id, error=error, status_code=error.kind.http_status
        )
    code = created.code
    db.commit()
    return RedirectResponse(f"/stories/{code}", status_code=303)


@router.get("/stories")
def stories_page(request: Request, db: DbSession, actor: PageActor) -> Response:
    """Benefit stories campaigns may cite (no NIK; consent recorded)."""
    del actor
    return render(request, "claims_stories.html", {"stories": queries.stories(db)})


@router.get("/stories/{code}")
def story_page(request: Request, db: DbSession, actor: PageActor, code: str) -> Response:
    """One benefit story."""
    del actor
    return render(request, "claims_story.html", {"s": queries.story(db, code)})
