"""Pages of the campaigns area: the segment x area coverage gap, the campaign list with the
funnel comparison chart, and the prospect worklist for staff and agents (phone-friendly, with a
contact form). Office pages are for office roles, scoped to the actor's region or branch; the
worklist is scoped by :func:`prospect_scope`."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from openpyxl import Workbook
from sqlalchemy.orm import Session

from cakupan.access import BRANCH_ROLES, NATIONAL_ROLES, SensitiveValue, reveal
from cakupan.auth import Actor, Role
from cakupan.campaigns import exports, planner_pages, queries
from cakupan.campaigns.planner import area_filter, visible_campaigns
from cakupan.campaigns.prospects import (
    CONTACT_METHODS,
    ProspectView,
    prospect_scope,
    prospect_views,
    record_contact,
    stage_counts,
)
from cakupan.campaigns.rules import CONTACT_OUTCOMES, FUNNEL_STAGES, LABELS, REFUSAL_REASONS
from cakupan.campaigns.segments import coverage, list_segments
from cakupan.dates import parse_date, today
from cakupan.errors import forbidden, invalid, not_found
from cakupan.i18n import t
from cakupan.web.deps import (
    AppClock,
    CsrfProtected,
    DbSession,
    PageActor,
    RowId,
    request_lang,
)
from cakupan.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(planner_pages.router)  # before /campaigns/{code}: calendar, new, plan

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OFFICE_ROLES = NATIONAL_ROLES | BRANCH_ROLES | {Role.REGIONAL}
STAGE_LABELS = {
    "reached": ("Terjangkau", "Reached"),
    "interested": ("Tertarik", "Interested"),
    "registered": ("Terdaftar", "Registered"),
    "paid_month_1": ("Bayar bulan 1", "Paid month 1"),
    "retained_month_3": ("Bertahan bulan 3", "Retained month 3"),
    "retained_month_6": ("Bertahan bulan 6", "Retained month 6"),
}


def _office_only(actor: Actor) -> None:
    if actor.role not in OFFICE_ROLES:
        raise forbidden()


@router.get("/segments/coverage")
def coverage_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    segment: Annotated[str | None, Query()] = None,
    as_of: Annotated[str | None, Query()] = None,
) -> Response:
    """Potential against coverage per segment and area, largest gap first."""
    _office_only(actor)
    day = _day(as_of) or today(clock)
    rows = coverage(db, day, segment=segment or None)
    in_scope = area_filter(db, actor)
    if in_scope is not None:
        rows = [r for r in rows if in_scope(r.area)]
    rows.sort(key=lambda r: (-r.gap, r.segment, r.area))
    return render(
        request,
        "campaigns_coverage.html",
        {
            "rows": rows,
            "as_of": day,
            "segment": segment or "",
            "segments": list_segments(db),
        },
    )


@router.get("/campaigns")
def campaigns_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    by: Annotated[str, Query()] = "campaign",
) -> Response:
    """The campaigns the actor sees and their funnels compared by campaign, segment or channel."""
    _office_only(actor)
    if by not in ("campaign", "segment", "channel"):
        raise invalid("by", t("campaign, segment atau channel", "campaign, segment or channel"))
    codes = visible_campaigns(db, actor)
    campaigns = queries.list_campaigns(db, codes)
    comparison = queries.compare_funnels(db, by, codes) if codes else []
    chart = {
        "stages": list(FUNNEL_STAGES),
        "series": [
            {"name": row[by], "counts": [s["count"] for s in row["stages"]]}
            for row in comparison[:8]
        ],
    }
    return render(
        request,
        "campaigns_list.html",
        {
            "campaigns": campaigns,
            "comparison": comparison,
            "by": by,
            "stage_labels": STAGE_LABELS,
            "chart_json": json.dumps(chart),
        },
    )


@router.get("/campaigns/export.xlsx")
def campaigns_export(request: Request, db: DbSession, actor: PageActor) -> Response:
    """The campaign list the actor sees, as an XLSX file (labels in the page's language)."""
    _office_only(actor)
    workbook = exports.campaigns_workbook(
        queries.list_campaigns(db, visible_campaigns(db, actor)), request_lang(request)
    )
    return _xlsx(workbook, "kampanye.xlsx")


def _xlsx(workbook: Workbook, name: str) -> Response:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/campaigns/{code}")
def campaign_page(request: Request, db: DbSession, actor: PageActor, code: str) -> Response:
    """One campaign's funnel with its cost per stage and the registrations attributed to it (NIK
    masked unless the role may see it)."""
    _office_only(actor)
    if code not in visible_campaigns(db, actor):
        raise not_found(
            t("kampanye {c!r} tidak ditemukan", "campaign {c!r} not found").format(c=code)
        )
    from cakupan.bundling import campaign_offer

    funnel = queries.campaign_funnel(db, code)
    attributed = queries.attributions(db, code)
    offer = campaign_offer(db, code, today(request.app.state.clock))
    niks = reveal(
        db, actor, [SensitiveValue("participant", a.nik, "nik", a.nik) for a in attributed]
    )
    db.commit()  # the unmasking audit row, if any
    return render(
        request,
        "campaigns_detail.html",
        {
            "funnel": funnel,
            "rows": list(zip(attributed, niks, strict=True)),
            "stage_labels": STAGE_LABELS,
            "offer": offer,
        },
    )


@router.get("/prospects")
def prospects_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    mine: Annotated[bool, Query()] = False,
    campaign: Annotated[str | None, Query()] = None,
) -> Response:
    """The prospect worklist: what the actor may see (``mine`` = only assigned to them), with
    stage, attempts and a form to record a contact."""
    views, phones = _worklist(db, actor, mine=mine, campaign=campaign)
    return render(
        request,
        "campaigns_prospects.html",
        {
            "views": views,
            "phones": phones,
            "counts": stage_counts(views),
            "mine": mine,
            "campaign": campaign or "",
            "outcomes": CONTACT_OUTCOMES,
            "reasons": REFUSAL_REASONS,
            "methods": CONTACT_METHODS,
            "labels": LABELS,
        },
    )


def _worklist(
    db: Session, actor: Actor, *, mine: bool, campaign: str | None
) -> tuple[list[ProspectView], dict[int, str]]:
    """The prospects the actor sees (``mine``: assigned to them) and each one's phone as the
    actor may see it: their own prospects' phones in full, others' masked unless the role may
    unmask them (audited by :func:`reveal`, committed here)."""
    own = actor.agent_code if actor.role is Role.AGENT else actor.name
    views = prospect_views(
        db,
        campaign_code=campaign or None,
        assigned_to=own if mine else None,
        scope=prospect_scope(db, actor),
        limit=500,
    )
    own_codes = {actor.name, actor.agent_code, actor.partner_code} - {None}
    hidden = [v for v in views if v.assigned_to not in own_codes]
    shown_hidden = reveal(
        db,
        actor,
        [SensitiveValue("prospect", v.id, "phone", v.phone or "") for v in hidden],
    )
    phones: dict[int, str] = {v.id: v.phone or "" for v in views}
    phones.update({v.id: p if v.phone else "" for v, p in zip(hidden, shown_hidden, strict=True)})
    db.commit()  # the unmasking audit rows, if any
    return views, phones


@router.get("/prospects/export.xlsx")
def prospects_export(
    request: Request,
    db: DbSession,
    actor: PageActor,
    mine: Annotated[bool, Query()] = False,
    campaign: Annotated[str | None, Query()] = None,
) -> Response:
    """The prospect worklist as filtered on its page, as an XLSX file (phones as shown there)."""
    views, phones = _worklist(db, actor, mine=mine, campaign=campaign)
    workbook = exports.prospects_workbook(views, phones, request_lang(request))
    return _xlsx(workbook, "prospek.xlsx")


@router.post("/prospects/{prospect_id}/contact", dependencies=[CsrfProtected])
def prospect_contact(
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    prospect_id: RowId,
    outcome: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    method: Annotated[str, Form()] = "phone",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Record one contact attempt on a prospect the actor sees, then back to the worklist."""
    if not prospect_views(db, ids=[prospect_id], scope=prospect_scope(db, actor)):
        raise not_found(
            t("prospek {i} tidak ditemukan", "prospect {i} not found").format(i=prospect_id)
        )
    record_contact(
        db,
        actor,
        prospect_id,
        outcome=outcome,
        refusal_reason=reason or None,
        method=method,
        note=note or None,
        clock=clock,
    )
    db.commit()
    return RedirectResponse(f"/prospects#p{prospect_id}", status_code=303)


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise invalid(
            "as_of",
            t("tanggal YYYY-MM-DD, diterima {v!r}", "expected YYYY-MM-DD, got {v!r}").format(
                v=value
            ),
        ) from None
