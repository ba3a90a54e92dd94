"""Pages of the retention workbench: ``/retensi`` (the four lists as phone-first cards with call
and WhatsApp links and the outcome form beside each, filters kept in the URL, bulk assignment,
XLSX export of exactly the filtered rows) and ``/retensi/backtest`` (how the model did on past
months, saying when the data is synthetic). Reads through :mod:`cakupan.retention.queries`."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from cakupan.dates import today
from cakupan.errors import CakupanError
from cakupan.retention.actions import assign_owner, record_outcome
from cakupan.retention.api import parse_day
from cakupan.retention.exports import worklist_xlsx
from cakupan.retention.models import RetentionModel
from cakupan.retention.queries import (
    RISK_BANDS,
    WorklistFilters,
    check_list,
    outcomes_report,
    worklist,
)
from cakupan.retention.rules import LIST_LABELS, LISTS, OUTCOMES, REFUSAL_REASONS
from cakupan.web.deps import AppClock, CsrfProtected, DbSession, PageActor
from cakupan.web.templating import render

router = APIRouter(include_in_schema=False)

#: Rows per page of the workbench.
PAGE_ROWS = 50


def _filters(
    branch: str | None,
    partner: str | None,
    owner: str | None,
    village: str | None,
    occupation: str | None,
    risk: str | None,
    not_contacted: str | None,
    snoozed: str | None,
) -> WorklistFilters:
    return WorklistFilters(
        branch=branch or None,
        partner=partner or None,
        owner=owner or None,
        village=village or None,
        occupation=occupation or None,
        risk_band=risk or None,
        not_contacted=bool(not_contacted),
        include_snoozed=bool(snoozed),
    )


def _context(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    list_name: str,
    as_of: str | None,
    filters: WorklistFilters,
    page: int,
) -> dict[str, Any]:
    check_list(list_name)
    day = parse_day("as_of", as_of) or today(clock)
    result = worklist(
        db, actor, list_name, day, filters, limit=PAGE_ROWS, offset=(page - 1) * PAGE_ROWS
    )
    params = {"list": list_name, **filters.as_params()}
    if as_of:
        params["as_of"] = day.isoformat()
    return {
        "result": result,
        "list_name": list_name,
        "lists": [(name, LIST_LABELS[name]) for name in LISTS],
        "filters": filters,
        "as_of": day,
        "as_of_param": as_of or "",
        "qs": urlencode(params),
        "base_qs": urlencode({k: v for k, v in params.items() if k != "list"}),
        "page": page,
        "pages": max(1, -(-result["total"] // PAGE_ROWS)),
        "outcomes": list(OUTCOMES.values()),
        "refusal_reasons": REFUSAL_REASONS,
        "risk_bands": list(RISK_BANDS),
        "can_assign": actor.role.value in ("system", "admin", "kabid", "partner"),
    }


@router.get("/retensi")
def retention_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    list_name: Annotated[str, Query(alias="list")] = "due",
    as_of: str | None = None,
    branch: str | None = None,
    partner: str | None = None,
    owner: str | None = None,
    village: str | None = None,
    occupation: str | None = None,
    risk: str | None = None,
    not_contacted: str | None = None,
    snoozed: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """The workbench: one list as cards, filters, outcome form, bulk assignment, export."""
    filters = _filters(branch, partner, owner, village, occupation, risk, not_contacted, snoozed)
    context = _context(request, db, actor, clock, list_name, as_of, filters, page)
    db.commit()  # the audit row of revealed phones
    return render(request, "retention.html", context)


@router.get("/retensi/export.xlsx")
def retention_export(
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    list_name: Annotated[str, Query(alias="list")] = "due",
    as_of: str | None = None,
    branch: str | None = None,
    partner: str | None = None,
    owner: str | None = None,
    village: str | None = None,
    occupation: str | None = None,
    risk: str | None = None,
    not_contacted: str | None = None,
    snoozed: str | None = None,
) -> Response:
    """Every row of the filtered list (all pages) as XLSX."""
    check_list(list_name)
    filters = _filters(branch, partner, owner, village, occupation, risk, not_contacted, snoozed)
    day = parse_day("as_of", as_of) or today(clock)
    result = worklist(db, actor, list_name, day, filters)
    db.commit()
    body = worklist_xlsx(LIST_LABELS[list_name].render("id"), result["rows"])
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="retensi-{list_name}-{day}.xlsx"'},
    )


@router.post("/retensi/contact", dependencies=[CsrfProtected])
def retention_contact(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    nik: Annotated[str, Form()],
    outcome: Annotated[str, Form()] = "",
    promised_on: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    follow_up: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """Record an outcome; back to the same list and filters (errors shown above it)."""
    try:
        record_outcome(
            db,
            actor,
            nik,
            outcome=outcome,
            promised_on=promised_on,
            reason=reason,
            note=note,
            follow_up=follow_up,
            clock=clock,
        )
    except CakupanError as error:
        db.rollback()
        return _error_page(request, db, actor, clock, back, error)
    db.commit()
    return RedirectResponse(f"/retensi?{_safe_back(back)}&saved=1", status_code=303)


@router.post("/retensi/assign", dependencies=[CsrfProtected])
def retention_assign(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    owner: Annotated[str, Form()] = "",
    nik: Annotated[list[str] | None, Form()] = None,
    back: Annotated[str, Form()] = "",
) -> Response:
    """Assign the ticked rows to an owner (empty owner: remove their owner)."""
    try:
        assign_owner(db, actor, owner.strip() or None, nik or [], clock=clock)
    except CakupanError as error:
        db.rollback()
        return _error_page(request, db, actor, clock, back, error)
    db.commit()
    return RedirectResponse(f"/retensi?{_safe_back(back)}", status_code=303)


def _safe_back(back: str) -> str:
    """The list's query string posted back by the form (only a query string: no open redirect)."""
    return back if back and "/" not in back and ":" not in back else "list=due"


def _error_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    back: str,
    error: CakupanError,
) -> Response:
    from urllib.parse import parse_qs

    values = {k: v[0] for k, v in parse_qs(_safe_back(back)).items()}
    list_name = values.get("list", "due")
    if list_name not in LISTS:
        list_name = "due"
    filters = _filters(
        values.get("branch"),
        values.get("partner"),
        values.get("owner"),
        values.get("village"),
        values.get("occupation"),
        values.get("risk") if values.get("risk") in RISK_BANDS else None,
        values.get("not_contacted"),
        values.get("snoozed"),
    )
    context = _context(request, db, actor, clock, list_name, values.get("as_of"), filters, 1)
    db.commit()
    context.update({"error": error, "problems": error.problems})
    return render(request, "retention.html", context, status_code=error.kind.http_status)


@router.get("/retensi/backtest")
def backtest_page(request: Request, db: DbSession, actor: PageActor) -> Response:
    """The latest stored backtest (``cakupan retention train --backtest``), with the model's
    version and window, and whether the data is synthetic."""
    del actor  # any signed-in user: figures only, no participant
    row = db.scalar(select(RetentionModel).order_by(RetentionModel.id.desc()).limit(1))
    metrics = json.loads(row.metrics) if row is not None else {}
    return render(
        request,
        "retention_backtest.html",
        {"model": row, "backtest": metrics.get("backtest"), "held_out": metrics.get("held_out")},
    )


@router.get("/retensi/hasil")
def outcomes_page(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock, snapshot: str | None = None
) -> Response:
    """Did contacting help: the lists as of a snapshot (default 30 days ago) and who paid
    within 14 and 30 days, contacted or not (saying it is not a controlled comparison)."""
    from datetime import timedelta

    day = parse_day("snapshot", snapshot) or today(clock) - timedelta(days=30)
    report = outcomes_report(db, actor, day)
    return render(
        request,
        "retention_outcomes.html",
        {"report": report, "labels": LIST_LABELS, "outcome_labels": OUTCOMES},
    )
