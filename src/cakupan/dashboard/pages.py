"""Pages of the dashboard: KPI cards with filters and charts, the partner league table, early
warnings, the drill-down lists and the arrears / re-acquisition worklist with its contact log.
Every page reads through :mod:`cakupan.dashboard.queries` (scoped, masked)."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from cakupan import figures
from cakupan.auth import Actor, Role
from cakupan.dashboard import actions, exports, queries, rules
from cakupan.dashboard.api import DashboardFilters, parse_month
from cakupan.dashboard.models import CONTACT_OUTCOMES
from cakupan.dashboard.queries import Filters
from cakupan.dates import Month
from cakupan.errors import CakupanError, invalid
from cakupan.i18n import t
from cakupan.registry.late import queued_months
from cakupan.registry.models import Occupation
from cakupan.web.deps import AppClock, CsrfProtected, DbSession, PageActor, RowId, request_lang
from cakupan.web.templating import render

router = APIRouter(include_in_schema=False)

CHANNELS = ("branch", "online", "agent", "partner")
PROGRAM_SETS = ("JKK+JKM", "JKK+JKM+JHT")


def _query_string(filters: Filters, **extra: Any) -> str:
    values = {k: v for k, v in filters.as_json().items() if v is not None}
    values.update({k: v for k, v in extra.items() if v is not None})
    return urlencode(values)


def _form_context(
    db: DbSession, filters: Filters, choices: queries.FilterChoices | None = None
) -> dict[str, Any]:
    occupations = db.execute(
        select(Occupation.code, Occupation.name_id, Occupation.name_en).order_by(Occupation.code)
    ).all()
    return {
        "filters": filters,
        "channels": CHANNELS,
        "program_sets": PROGRAM_SETS,
        "occupations": occupations,
        "choices": choices,
    }


@router.get("/dashboard")
def dashboard_page(
    request: Request, db: DbSession, actor: PageActor, filters: DashboardFilters
) -> Response:
    """KPI cards, trend and retention-cohort charts for the period and filters."""
    choices = queries.filter_choices(db, actor)
    choices.check(filters)
    summary = queries.summary(db, actor, filters)
    resolved = summary.filters
    trend = queries.trend(db, actor, resolved)
    cohorts = queries.cohorts(db, actor, resolved)
    lang = request_lang(request)
    chart = {
        "locale": "en-GB" if lang == "en" else "id-ID",
        # Legend names in the page's language only (cakupan.figures).
        "names": {
            "registrations": figures.label("new_registrations", lang),
            "active": figures.label("active_participants", lang),
            "contributions": figures.label("contributions", lang),
            "age": "month of age" if lang == "en" else "bulan ke-",
        },
        "months": [rules.month_label(m["month"], lang) for m in trend["months"]],
        # Clicking a month opens the records behind its figure (the drill-down list, same
        # filters): registrations, active participants at the month end, its payments.
        "month_codes": [m["month"] for m in trend["months"]],
        "cohort_codes": [c["cohort"] for c in cohorts["cohorts"]],
        "records": "/dashboard/records?" + _query_string(resolved),
        "registrations": [m["new_registrations"] for m in trend["months"]],
        "active": [m["active_participants"] for m in trend["months"]],
        "compliance": [m["compliance"]["percent"] for m in trend["months"]],
        "contributions": [m["contributions_collected"] for m in trend["months"]],
        "cohorts": [
            {
                "name": rules.month_label(c["cohort"], lang),
                "data": [[p["age"], p["percent"], p["part"], p["base"]] for p in c["curve"]],
            }
            for c in cohorts["cohorts"]
        ],
    }
    context = _form_context(db, resolved, choices)
    context.update(
        {
            "benefits": _benefits(db, actor, resolved),
            "retention_panel": _retention_panel(db, actor, resolved),
            "summary": summary,
            "chart_json": json.dumps(chart).replace("</", "<\\/"),
            "qs": _query_string(resolved),
            "last": resolved.last,
            "no_league": actor.role is Role.AGENT,
            "figures_as_of": _figures_as_of(db, summary.latest_closed),
            "late_months": [str(month) for month in queued_months(db)],
        }
    )
    return render(request, "dashboard.html", context)


def _benefits(db: DbSession, actor: Actor, resolved: Filters) -> Any:
    """Benefits paid in the period (claims area), scoped and filtered like the other figures
    (the channel filter is the registration channel: it does not apply to claims)."""
    from cakupan.claims.queries import benefits_paid

    if resolved.first is None or resolved.last is None:
        return None
    return benefits_paid(
        db,
        actor,
        resolved.first,
        resolved.last,
        region=resolved.region,
        branch=resolved.branch,
        partner=resolved.partner,
    )


def _retention_panel(db: DbSession, actor: Actor, resolved: Filters) -> list[dict[str, Any]]:
    """The retention panel (issue 15, :mod:`cakupan.dashboard.retention_panel`): due -> paid by
    the 15th, arrears -> recovered, closed -> re-acquired per month, scoped and filtered like
    the other figures."""
    from cakupan.dashboard.retention_panel import retention_panel

    return retention_panel(db, actor, resolved)


def _figures_as_of(db: DbSession, month: Month | None) -> datetime | None:
    """When the shown month's figures were computed (its close, or the worker's hourly
    month-to-date refresh): the dashboard's "per <date time>"."""
    from cakupan.registry.close_models import MonthClose

    closed = db.get(MonthClose, month) if month is not None else None
    return closed.closed_at if closed is not None else None


@router.get("/dashboard/league")
def league_page(
    request: Request, db: DbSession, actor: PageActor, filters: DashboardFilters
) -> Response:
    """The partner league table."""
    choices = queries.filter_choices(db, actor)
    choices.check(filters)
    table = queries.league(db, actor, filters)
    resolved = queries.resolve_period(db, filters)[0]
    context = _form_context(db, resolved, choices)
    context.update({"table": table, "action": "/dashboard/league", "qs": _query_string(resolved)})
    return render(request, "dashboard_league.html", context)


@router.get("/dashboard/warnings")
def warnings_page(
    request: Request, db: DbSession, actor: PageActor, filters: DashboardFilters
) -> Response:
    """Early warnings and the rules (data) that raised them."""
    choices = queries.filter_choices(db, actor)
    choices.check(filters)
    found = queries.warnings(db, actor, filters)
    resolved = queries.resolve_period(db, filters)[0]
    context = _form_context(db, resolved, choices)
    context.update({"found": found, "action": "/dashboard/warnings", "qs": _query_string(resolved)})
    return render(request, "dashboard_warnings.html", context)


@router.get("/dashboard/records")
def records_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    filters: DashboardFilters,
    kpi: str,
    month: str | None = None,
    cohort: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """The records behind one KPI figure or cohort heatmap cell (masked; unmasking audited);
    "next" continues after the last row's key (keyset)."""
    queries.filter_choices(db, actor).check(filters)
    result = queries.drill_down(
        db,
        actor,
        kpi,
        parse_month("month", month),
        filters,
        page=page,
        after=after,
        cohort=parse_month("cohort", cohort),
    )
    db.commit()
    return render(
        request,
        "dashboard_records.html",
        {
            "result": result,
            "qs": _query_string(filters, kpi=kpi, month=result["month"], cohort=result["cohort"]),
        },
    )


@router.get("/dashboard/worklist")
def worklist_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    filters: DashboardFilters,
    kind: str = "arrears",
    page: Annotated[int, Query(ge=1)] = 1,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """Participants in arrears / closed by system to contact, with the contact form."""
    result = queries.worklist(db, actor, kind, filters, page=page, after=after)
    db.commit()
    return render(
        request,
        "dashboard_worklist.html",
        {
            "result": result,
            "outcomes": CONTACT_OUTCOMES,
            "qs": _query_string(filters, kind=kind),
            "kind": kind,
            "problems": [],
        },
    )


@router.post("/dashboard/worklist/{participant_id}/contact", dependencies=[CsrfProtected])
def contact_submit(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    participant_id: RowId,
    outcome: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    promised_on: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "arrears",
) -> Response:
    """Log a contact; back to the worklist (errors shown above it)."""
    try:
        actions.record_contact(
            db,
            actor,
            participant_id,
            outcome=outcome,
            reason=reason,
            promised_on=promised_on,
            note=note,
            clock=clock,
        )
    except CakupanError as error:
        db.rollback()
        result = queries.worklist(
            db, actor, kind if kind in queries.WORKLIST_KINDS else "arrears", Filters()
        )
        db.commit()
        return render(
            request,
            "dashboard_worklist.html",
            {
                "result": result,
                "outcomes": CONTACT_OUTCOMES,
                "qs": urlencode({"kind": result["kind"]}),
                "kind": result["kind"],
                "problems": error.problems or [],
                "error": error,
                "failed_id": participant_id,
            },
            status_code=error.kind.http_status,
        )
    db.commit()
    return RedirectResponse(f"/dashboard/worklist?kind={kind}#p{participant_id}", status_code=303)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_VIEWS = ("records", "worklist", "league", "warnings")


@router.get("/dashboard/export.xlsx")
def export_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    filters: DashboardFilters,
    view: str,
    kpi: str | None = None,
    month: str | None = None,
    cohort: str | None = None,
    kind: str = "arrears",
) -> Response:
    """A dashboard table as an XLSX file, as filtered on its page (every page of it)."""
    lang = request_lang(request)
    queries.filter_choices(db, actor).check(filters)
    if view == "records":
        workbook, name = exports.records_workbook(
            db,
            actor,
            kpi or "",
            parse_month("month", month),
            filters,
            lang,
            cohort=parse_month("cohort", cohort),
        )
    elif view == "worklist":
        workbook, name = exports.worklist_workbook(db, actor, kind, filters, lang)
    elif view == "league":
        workbook, name = exports.league_workbook(db, actor, filters, lang)
    elif view == "warnings":
        workbook, name = exports.warnings_workbook(db, actor, filters, lang)
    else:
        raise invalid(
            "view",
            t(
                f"salah satu dari {', '.join(EXPORT_VIEWS)}, bukan {view!r}",
                f"one of {', '.join(EXPORT_VIEWS)}, got {view!r}",
            ),
        )
    db.commit()  # unmasking (if any) is audited like on the page
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
