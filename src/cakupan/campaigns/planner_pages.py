"""Pages of the campaign planner and calendar: plan a campaign (form with every problem next to
its field), the month calendar and list by week of the campaigns in scope with budget against
actual cost, a campaign's plan (edit while planned, record the actual cost and reach once
started). Scope and validation live in :mod:`cakupan.campaigns.planner`.

Included by :mod:`cakupan.campaigns.pages` before its ``/campaigns/{code}`` route, so that
``/campaigns/calendar`` and ``/campaigns/new`` are not taken for campaign codes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.campaigns.models import Campaign
from cakupan.campaigns.planner import (
    MEDIUM_LABELS,
    OFFICE_ROLES,
    STATUS_LABELS,
    TYPE_LABELS,
    PlanForm,
    PlanScope,
    calendar,
    campaign_detail,
    can_edit,
    month_weeks,
    plan_campaign,
    planning_scope,
    record_results,
    update_plan,
)
from cakupan.campaigns.rules import CAMPAIGN_TYPES, MEDIA
from cakupan.campaigns.segments import list_segments
from cakupan.dates import Month, today
from cakupan.errors import CakupanError, invalid
from cakupan.i18n import t
from cakupan.regions.models import Branch, BranchRegency, District
from cakupan.web.deps import AppClock, CsrfProtected, DbSession, PageActor, request_lang
from cakupan.web.formatting import MONTH_NAMES
from cakupan.web.templating import render

router = APIRouter(include_in_schema=False)


def _month(value: str | None, day: date) -> Month:
    if not value:
        return Month.of(day)
    try:
        return Month.parse(value)
    except ValueError:
        raise invalid(
            "month",
            t("bulan YYYY-MM, diterima {v!r}", "expected a month YYYY-MM, got {v!r}").format(
                v=value
            ),
        ) from None


@router.get("/campaigns/calendar")
def calendar_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    month: Annotated[str | None, Query()] = None,
) -> Response:
    """The month grid and the list by week of the campaigns the actor sees (planned, running,
    finished), with budget against actual cost."""
    day = today(clock)
    shown = _month(month, day)
    weeks = month_weeks(shown)
    entries = calendar(db, actor, weeks[0][0], weeks[-1][-1], day)
    in_month = [e for e in entries if e.start_on <= shown.last_day and e.end_on >= shown.first_day]
    by_week = [
        (week, [e for e in entries if e.start_on <= week[-1] and e.end_on >= week[0]])
        for week in weeks
    ]
    try:
        planning_scope(db, actor)
        may_plan = True
    except CakupanError:
        may_plan = False
    return render(
        request,
        "campaigns_calendar.html",
        {
            "month": shown,
            "month_names": MONTH_NAMES,
            "previous": shown + -1,
            "next": shown + 1,
            "today": day,
            "weeks": weeks,
            "by_week": by_week,
            "entries": in_month,
            "budget_total": sum(e.budget for e in in_month),
            "actual_total": sum(e.actual_cost or 0 for e in in_month),
            "status_labels": STATUS_LABELS,
            "type_labels": TYPE_LABELS,
            "may_plan": may_plan,
            "office": actor.role in OFFICE_ROLES,
        },
    )


def _form_context(db: Session, actor: Actor, scope: PlanScope) -> dict[str, Any]:
    branches = select(Branch.code, Branch.name).order_by(Branch.code)
    if scope.branches is not None:
        branches = branches.where(Branch.code.in_(scope.branches))
    districts: list[tuple[str, str]] = []
    if scope.regencies is not None:
        districts = [
            (code, name)
            for code, name in db.execute(
                select(District.code, District.name)
                .where(
                    District.regency_code.in_(
                        select(BranchRegency.regency_code).where(
                            BranchRegency.branch_code.in_(scope.branches or ())
                        )
                    )
                )
                .order_by(District.code)
            )
        ]
    return {
        "types": CAMPAIGN_TYPES,
        "type_labels": TYPE_LABELS,
        "media": MEDIA,
        "medium_labels": MEDIUM_LABELS,
        "segments": list_segments(db),
        "branches": db.execute(branches).all(),
        "without_branch": scope.without_branch,
        "districts": districts,
    }


def _errors(request: Request, error: CakupanError) -> dict[str, list[str]]:
    lang = request_lang(request)
    errors: dict[str, list[str]] = {}
    for problem in error.problems:
        errors.setdefault(problem.field, []).append(problem.message.render(lang))
    return errors


def _plan_form(
    request: Request,
    db: Session,
    actor: Actor,
    form: PlanForm,
    *,
    editing: Campaign | None = None,
    error: CakupanError | None = None,
    status_code: int = 200,
) -> Response:
    scope = planning_scope(db, actor)
    return render(
        request,
        "campaigns_plan_form.html",
        {
            **_form_context(db, actor, scope),
            "form": form,
            "editing": editing,
            "error": error,
            "errors": _errors(request, error) if error else {},
        },
        status_code=status_code,
    )


@router.get("/campaigns/new")
def new_campaign_page(request: Request, db: DbSession, actor: PageActor) -> Response:
    """The planner form (head office, regional offices, kabid)."""
    planning_scope(db, actor)
    return _plan_form(request, db, actor, PlanForm())


@router.post("/campaigns/new", dependencies=[CsrfProtected])
async def new_campaign_submit(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock
) -> Response:
    """Plan the campaign, then show it on the calendar; on errors the form again with each
    message next to its field and nothing saved."""
    data = await request.form()
    form = PlanForm.from_mapping(data, [str(s) for s in data.getlist("segments")])
    try:
        campaign = plan_campaign(db, actor, form, clock=clock)
    except CakupanError as error:
        if error.kind.http_status == 403:
            raise  # nothing was written; the error page still needs the signed-in user
        db.rollback()
        return _plan_form(request, db, actor, form, error=error, status_code=error.kind.http_status)
    db.commit()
    return RedirectResponse(
        f"/campaigns/calendar?month={Month.of(campaign.start_on)}&planned={campaign.code}",
        status_code=303,
    )


def _plan_page(
    request: Request,
    db: Session,
    actor: Actor,
    code: str,
    day: date,
    *,
    form: PlanForm | None = None,
    error: CakupanError | None = None,
    results_error: CakupanError | None = None,
    results: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    detail = campaign_detail(db, actor, code, day)
    campaign = db.get(Campaign, code)
    assert campaign is not None
    editable = can_edit(db, actor, campaign)
    context: dict[str, Any] = {
        "c": detail,
        "status_labels": STATUS_LABELS,
        "type_labels": TYPE_LABELS,
        "medium_labels": MEDIUM_LABELS,
        "office": actor.role in OFFICE_ROLES,
        "edit_plan": editable and detail["status"] == "planned",
        "edit_results": editable and detail["status"] != "planned",
        "results": results
        or {
            "actual_cost": "" if campaign.actual_cost is None else str(campaign.actual_cost),
            "reached": "" if campaign.reported_reached is None else str(campaign.reported_reached),
            "interested": ""
            if campaign.reported_interested is None
            else str(campaign.reported_interested),
        },
        "results_errors": _errors(request, results_error) if results_error else {},
        "results_error": results_error,
    }
    if context["edit_plan"]:
        context.update(_form_context(db, actor, planning_scope(db, actor)))
        context["form"] = form or PlanForm.of(db, campaign)
        context["error"] = error
        context["errors"] = _errors(request, error) if error else {}
    return render(request, "campaigns_plan.html", context, status_code=status_code)


@router.get("/campaigns/{code}/plan")
def plan_page(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock, code: str
) -> Response:
    """A campaign's plan (everyone who sees the campaign, partners involved included); the edit
    form while it is planned and the results form once it has started, for its planners."""
    return _plan_page(request, db, actor, code, today(clock))


@router.post("/campaigns/{code}/plan", dependencies=[CsrfProtected])
async def plan_submit(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock, code: str
) -> Response:
    """Save the edited plan of a planned campaign; on errors the form again, nothing saved."""
    data = await request.form()
    form = PlanForm.from_mapping(data, [str(s) for s in data.getlist("segments")])
    form.code = code
    try:
        update_plan(db, actor, code, form, clock=clock)
    except CakupanError as error:
        if error.kind.http_status in (403, 404):
            raise  # nothing was written; the error page still needs the signed-in user
        db.rollback()
        return _plan_page(
            request,
            db,
            actor,
            code,
            today(clock),
            form=form,
            error=error,
            status_code=error.kind.http_status,
        )
    db.commit()
    return RedirectResponse(f"/campaigns/{code}/plan?saved=1", status_code=303)


@router.post("/campaigns/{code}/results", dependencies=[CsrfProtected])
async def results_submit(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock, code: str
) -> Response:
    """Record the actual cost and reported reach of a started campaign."""
    data = await request.form()
    values = {k: str(data.get(k) or "").strip() for k in ("actual_cost", "reached", "interested")}
    try:
        record_results(db, actor, code, clock=clock, **values)
    except CakupanError as error:
        if error.kind.http_status in (403, 404):
            raise  # nothing was written; the error page still needs the signed-in user
        db.rollback()
        return _plan_page(
            request,
            db,
            actor,
            code,
            today(clock),
            results_error=error,
            results=values,
            status_code=error.kind.http_status,
        )
    db.commit()
    return RedirectResponse(f"/campaigns/{code}/plan?saved=1", status_code=303)


__all__ = ["router"]
