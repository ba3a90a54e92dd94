"""Pages of the targets area (printable): the target/realization report and the weekly reviews,
each with its XLSX download. Read-only; every page checks the actor's office first."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from openpyxl import Workbook
from sqlalchemy import select

from cakupan.auth import Actor
from cakupan.dashboard.queries import latest_closed_month
from cakupan.dates import JAKARTA
from cakupan.targets import actions, exports, queries, rules
from cakupan.targets.models import WeeklyReview
from cakupan.web.deps import AppClock, DbSession, PageActor
from cakupan.web.templating import render

router = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _default_office(actor: Actor) -> str:
    return actor.branch_code or actor.region_code or rules.NATIONAL


def _download(workbook: Workbook, file_name: str) -> Response:
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return StreamingResponse(
        buffer,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


@router.get("/targets")
def targets_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    office: Annotated[str | None, Query()] = None,
    year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
) -> Response:
    """Target vs realization of an office for a year: achievement, conflicts between sources,
    stated percentages that the figures do not give, and the splits."""
    code = actions.check_office(db, office or _default_office(actor))
    chosen_year = year or clock.now().astimezone(JAKARTA).year
    actions.authorize_office(db, actor, code, "read")
    as_of = latest_closed_month(db)
    rows = queries.report(db, code, chosen_year, as_of=as_of)
    splits = queries.splits(db, code, chosen_year)
    return render(
        request,
        "targets_report.html",
        {
            "office": code,
            "year": chosen_year,
            "rows": rows,
            "splits": splits,
            "metric_labels": exports.METRIC_LABELS,
            "as_of": as_of,
        },
    )


@router.get("/targets/export.xlsx")
def targets_export(
    db: DbSession,
    actor: PageActor,
    office: Annotated[str, Query()],
    year: Annotated[int, Query(ge=1990, le=2100)],
) -> Response:
    """The same report as an XLSX file."""
    code = office.strip().upper()
    actions.authorize_office(db, actor, code, "read")
    rows = queries.report(db, code, year, as_of=latest_closed_month(db))
    splits = queries.splits(db, code, year)
    return _download(exports.report_workbook(rows, splits), f"target-{code}-{year}.xlsx")


@router.get("/reviews")
def reviews_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    office: Annotated[str | None, Query()] = None,
) -> Response:
    """The weekly reviews of an office, newest first."""
    code = (office or _default_office(actor)).strip().upper()
    actions.authorize_office(db, actor, code, "read")
    reviews = db.scalars(
        select(WeeklyReview)
        .where(WeeklyReview.office_code == code)
        .order_by(WeeklyReview.week_start.desc())
    ).all()
    return render(request, "targets_reviews.html", {"office": code, "reviews": reviews})


@router.get("/reviews/{review_id}")
def review_page(request: Request, db: DbSession, actor: PageActor, review_id: int) -> Response:
    """One weekly review, printable: notes, follow-up actions (new, carried over, closed) and
    the week's assessment per staff member and partner."""
    view = queries.review_view(db, review_id)
    actions.authorize_office(db, actor, view.review.office_code, "read")
    week_end = view.review.week_start + timedelta(days=6)
    return render(
        request, "targets_review.html", {"view": view, "data": view.as_json(), "week_end": week_end}
    )


@router.get("/reviews/{review_id}/export.xlsx")
def review_export(db: DbSession, actor: PageActor, review_id: int) -> Response:
    """The review as an XLSX file."""
    view = queries.review_view(db, review_id)
    actions.authorize_office(db, actor, view.review.office_code, "read")
    name = f"evaluasi-{view.review.office_code}-{view.review.week_start.isoformat()}.xlsx"
    return _download(exports.review_workbook(view), name)
