"""Pages of the targets area (printable): the target/realization report and the weekly reviews,
each with its XLSX download. Read-only; every page checks the actor's office first."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.dashboard.queries import latest_closed_month
from cakupan.dates import JAKARTA, Clock
from cakupan.errors import CakupanError, ErrorKind, invalid
from cakupan.formats import parse_rupiah
from cakupan.i18n import t
from cakupan.targets import actions, exports, plan_pages, queries, rules
from cakupan.targets.models import WeeklyReview
from cakupan.web.deps import AppClock, CsrfProtected, DbSession, PageActor, RowId
from cakupan.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(plan_pages.router)  # /plans: work plans and their activities

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
    *,
    problems: list[Any] | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    imported: dict[str, Any] | None = None,
) -> Response:
    """Target vs realization of an office for a year: achievement, conflicts between sources
    (with the choice of the figure that counts), stated percentages that the figures do not
    give, and the splits; with an office picker limited to the actor's scope and, for who may
    set the office's targets, the forms to set a figure, split a target and import a file."""
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
            "can_choose": _may(db, actor, code, "targets"),
            "problems": problems or [],
            "offices": queries.office_choices(db, actor),
            "partners": queries.partner_choices(db, code),
            "staff": queries.staff_choices(db, code),
            "districts": queries.district_choices(db, code),
            "segments": rules.SEGMENTS,
            "metrics": rules.METRICS,
            "figure_kinds": rules.FIGURE_KINDS,
            "part_kinds": rules.PART_KINDS,
            "form": form or {},
            "imported": imported,
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
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
    return _reviews_list(request, db, actor, code)


def _reviews_list(
    request: Request,
    db: Session,
    actor: Actor,
    code: str,
    *,
    problems: list[Any] | None = None,
    status: ErrorKind | None = None,
) -> Response:
    actions.authorize_office(db, actor, code, "read")
    reviews = db.scalars(
        select(WeeklyReview)
        .where(WeeklyReview.office_code == code)
        .order_by(WeeklyReview.week_start.desc())
    ).all()
    return render(
        request,
        "targets_reviews.html",
        {
            "office": code,
            "reviews": reviews,
            "problems": problems or [],
            "can_review": _may_review(db, actor, code),
        },
        status_code=200 if status is None else status.http_status,
    )


def _may_review(db: Session, actor: Actor, code: str) -> bool:
    return _may(db, actor, code, "review")


def _may(db: Session, actor: Actor, code: str, purpose: rules.Purpose) -> bool:
    try:
        actions.authorize_office(db, actor, code, purpose)
    except CakupanError:
        return False
    return True


@router.post("/targets/choose", dependencies=[CsrfProtected])
def targets_choose(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    office: Annotated[str, Form(max_length=20)] = "",
    year: Annotated[int, Form(ge=1990, le=2100)] = 2000,
    segment: Annotated[str, Form(max_length=10)] = "",
    metric: Annotated[str, Form(max_length=40)] = "",
    kind: Annotated[str, Form(max_length=12)] = "",
    source: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Choose which source's figure counts for a cell in conflict (both stay visible)."""
    office = actions.check_office(db, office)
    actions.authorize_office(db, actor, office, "targets")  # refused before anything is tried
    key = actions.CellKey(office, rules.Period.whole_year(year), segment, metric)
    try:
        actions.choose_figure(db, actor, key, kind, source, reason, clock=clock)
    except CakupanError as error:
        db.rollback()
        return targets_page(
            request,
            db,
            actor,
            clock,
            office,
            year,
            problems=[error.title, *error.problems],
            status_code=error.kind.http_status,
        )
    db.commit()
    return RedirectResponse(f"/targets?office={office}&year={year}&chosen=1", status_code=303)


# --- setting, splitting and importing targets (issue 17): the actions of `cakupan targets` ---


def _cell_key(office: str, year: int, period: str, segment: str, metric: str) -> actions.CellKey:
    """The cell a form names; INVALID naming the field as the CLI does."""
    try:
        span = rules.parse_period(year, period)
    except ValueError as exc:
        raise invalid("period", t("{m}", "{m}").format(m=str(exc))) from None
    return actions.CellKey(
        office,
        span,
        actions.check_choice("segment", segment.strip().upper(), rules.SEGMENTS),
        actions.check_choice("metric", metric.strip().lower(), rules.METRICS),
    )


def _target_write(
    request: Request,
    db: Session,
    actor: Actor,
    clock: Clock,
    office: str,
    year: int,
    form: dict[str, str],
    write: Callable[[], object],
    done: str,
) -> Response:
    """Run one targets action (validate -> write -> audit in the action); on an error the
    targets page again with the problems named and the form as typed, nothing written; else
    back to the report (redirect after POST)."""
    try:
        actions.committed(db, write)
    except CakupanError as error:
        return targets_page(
            request,
            db,
            actor,
            clock,
            office,
            year,
            problems=[error.title, *error.problems],
            status_code=error.kind.http_status,
            form=form,
        )
    return RedirectResponse(f"/targets?office={office}&year={year}&done={done}", status_code=303)


@router.post("/targets/set", dependencies=[CsrfProtected])
def targets_set(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    office: Annotated[str, Form(max_length=20)] = "",
    year: Annotated[int, Form(ge=1990, le=2100)] = 2000,
    period: Annotated[str, Form(max_length=20)] = "",
    segment: Annotated[str, Form(max_length=10)] = "BPU",
    metric: Annotated[str, Form(max_length=40)] = "",
    kind: Annotated[str, Form(max_length=12)] = "target",
    value: Annotated[str, Form(max_length=40)] = "",
    source: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """State one target (or a reported realization) of a cell, with its source: the action of
    `cakupan targets set` (same checks; the same source restating another figure is a
    conflict)."""
    code = actions.check_office(db, office)
    actions.authorize_office(db, actor, code, "targets")  # refused before anything is tried
    form = {
        "period": period,
        "segment": segment,
        "metric": metric,
        "kind": kind,
        "value": value,
        "source": source,
    }

    def write() -> object:
        key = _cell_key(code, year, period, segment, metric)
        amount = parse_rupiah(value)
        if amount is None:
            raise invalid(
                "value",
                t(
                    "bilangan bulat >= 0 (mis. 1.200 atau Rp 1.500.000), didapat {v!r}",
                    "a whole number >= 0 (e.g. 1,200 or Rp 1.500.000), got {v!r}",
                ).format(v=value),
            )
        return actions.record_figure(db, actor, key, kind, amount, source, clock=clock)

    return _target_write(request, db, actor, clock, code, year, form, write, "set")


@router.post("/targets/split", dependencies=[CsrfProtected])
def targets_split(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    office: Annotated[str, Form(max_length=20)] = "",
    year: Annotated[int, Form(ge=1990, le=2100)] = 2000,
    period: Annotated[str, Form(max_length=20)] = "",
    segment: Annotated[str, Form(max_length=10)] = "BPU",
    metric: Annotated[str, Form(max_length=40)] = "",
    part_kind: Annotated[str, Form(max_length=20)] = "",
    parts: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """Split a cell's target among staff, partners or districts, one ``CODE=VALUE`` a line
    (replaces that kind's parts): the action of `cakupan targets split`."""
    code = actions.check_office(db, office)
    actions.authorize_office(db, actor, code, "targets")  # refused before anything is tried
    form = {
        "split_period": period,
        "split_segment": segment,
        "split_metric": metric,
        "part_kind": part_kind,
        "parts": parts,
    }

    def write() -> object:
        key = _cell_key(code, year, period, segment, metric)
        given, problems = rules.parse_parts(parts.splitlines())
        if problems:
            raise CakupanError(t("Bagian target tidak valid", "Invalid target parts"), problems)
        if not given:
            raise invalid("parts", t("isi minimal satu KODE=NILAI", "give at least one CODE=VALUE"))
        return actions.set_split(db, actor, key, part_kind, given)

    return _target_write(request, db, actor, clock, code, year, form, write, "split")


@router.post("/targets/import", dependencies=[CsrfProtected])
def targets_import(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    file: UploadFile,
    office: Annotated[str, Form(max_length=20)] = "",
    year: Annotated[int, Form(ge=1990, le=2100)] = 2000,
    partial: Annotated[bool, Form()] = False,
) -> Response:
    """Import a CSV/XLSX of target and realization figures with their sources (`cakupan targets
    import`): every row checked (offices outside the actor's scope rejected by row), all or
    nothing unless ``partial``, audited once per file; the result by row and field on the
    page."""
    from cakupan.dashboard.operations import upload_name

    code = actions.check_office(db, office or _default_office(actor))
    actions.authorize_office(db, actor, code, "targets")  # refused before anything is tried
    db.close()  # the import writes on its own connection (SQLite: no read lock held here)
    name = upload_name(file.filename)
    with tempfile.TemporaryDirectory(prefix="cakupan-targets-") as folder:
        path = Path(folder) / ("upload" + Path(name).suffix.lower()[:8])
        file.file.seek(0)
        with path.open("wb") as handle:
            shutil.copyfileobj(file.file, handle, 1024 * 1024)
        try:
            result = actions.import_figures(
                request.app.state.engine, actor, path, partial=partial, clock=clock
            )
        except CakupanError as error:
            return targets_page(
                request,
                db,
                actor,
                clock,
                code,
                year,
                problems=[error.title, *error.problems],
                status_code=error.kind.http_status,
            )
    return targets_page(
        request,
        db,
        actor,
        clock,
        code,
        year,
        imported={"result": result, "file_name": name, "partial": partial},
    )


@router.get("/reviews/{review_id}")
def review_page(request: Request, db: DbSession, actor: PageActor, review_id: RowId) -> Response:
    """One weekly review, printable: notes, follow-up actions (new, carried over, closed) and
    the week's assessment per staff member and partner."""
    view = queries.review_view(db, review_id)
    actions.authorize_office(db, actor, view.review.office_code, "read")
    week_end = view.review.week_start + timedelta(days=6)
    return render(
        request,
        "targets_review.html",
        {
            "view": view,
            "data": view.as_json(),
            "week_end": week_end,
            "problems": [],
            "can_edit": _may_review(db, actor, view.review.office_code),
            "done": request.query_params.get("done"),
        },
    )


@router.get("/reviews/{review_id}/export.xlsx")
def review_export(db: DbSession, actor: PageActor, review_id: RowId) -> Response:
    """The review as an XLSX file."""
    view = queries.review_view(db, review_id)
    actions.authorize_office(db, actor, view.review.office_code, "read")
    name = f"evaluasi-{view.review.office_code}-{view.review.week_start.isoformat()}.xlsx"
    return _download(exports.review_workbook(view), name)


# --- the weekly review on the web (issue 17): the same actions as `cakupan targets review` ---


def _review_form_page(
    request: Request,
    db: Session,
    review_id: RowId,
    *,
    problems: list[Any],
    status_code: int,
) -> Response:
    view = queries.review_view(db, review_id)
    week_end = view.review.week_start + timedelta(days=6)
    return render(
        request,
        "targets_review.html",
        {
            "view": view,
            "data": view.as_json(),
            "week_end": week_end,
            "problems": problems,
            "can_edit": True,
        },
        status_code=status_code,
    )


def _review_write(
    request: Request,
    db: Session,
    actor: Actor,
    review_id: RowId,
    write: Callable[[], object],
    done: str,
) -> Response:
    """Run one review action (validate -> write -> audit, in the action); on an error the page
    again with the problem named, nothing written; else back to the review (redirect after
    POST). Who may not hold the office's review is refused before anything is tried."""
    actions.authorize_office(db, actor, actions.get_review(db, review_id).office_code, "review")
    try:
        write()
    except CakupanError as error:
        db.rollback()
        return _review_form_page(
            request,
            db,
            review_id,
            problems=[error.title, *error.problems],
            status_code=error.kind.http_status,
        )
    db.commit()
    return RedirectResponse(f"/reviews/{review_id}?done={done}", status_code=303)


def _day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise invalid(
            name, t(f"tanggal YYYY-MM-DD, bukan {value!r}", f"a date YYYY-MM-DD, got {value!r}")
        ) from None


@router.post("/reviews", dependencies=[CsrfProtected])
def review_open(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    office: Annotated[str, Form(max_length=20)] = "",
    week_of: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Open (or find) this week's review of the office: held today."""
    today = clock.now().astimezone(JAKARTA).date()
    code = actions.check_office(db, office or _default_office(actor))
    actions.authorize_office(db, actor, code, "review")  # refused before anything is tried
    try:
        day = _day("week_of", week_of) if week_of else today
        review = actions.open_review(db, actor, code, day, today)
    except CakupanError as error:
        db.rollback()
        return _reviews_list(
            request, db, actor, code, problems=[error.title, *error.problems], status=error.kind
        )
    db.commit()
    return RedirectResponse(f"/reviews/{review.id}", status_code=303)


@router.post("/reviews/{review_id}/notes", dependencies=[CsrfProtected])
def review_note(
    request: Request,
    db: DbSession,
    actor: PageActor,
    review_id: RowId,
    kind: Annotated[str, Form(max_length=20)] = "",
    text: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A problem, solution or decision noted in the review."""
    return _review_write(
        request,
        db,
        actor,
        review_id,
        lambda: actions.add_note(db, actor, review_id, kind, text),
        "note",
    )


@router.post("/reviews/{review_id}/actions", dependencies=[CsrfProtected])
def review_action(
    request: Request,
    db: DbSession,
    actor: PageActor,
    review_id: RowId,
    description: Annotated[str, Form(max_length=2000)] = "",
    owner: Annotated[str, Form(max_length=40)] = "",
    due_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A follow-up action with its owner and due date."""
    return _review_write(
        request,
        db,
        actor,
        review_id,
        lambda: actions.raise_action(
            db, actor, review_id, description, owner, _day("due_on", due_on)
        ),
        "action",
    )


@router.post("/reviews/{review_id}/actions/{action_id}/close", dependencies=[CsrfProtected])
def review_close_action(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    review_id: RowId,
    action_id: RowId,
    resolution: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Close an open (or carried-over) action in this review, with how it was resolved."""
    today = clock.now().astimezone(JAKARTA).date()
    return _review_write(
        request,
        db,
        actor,
        review_id,
        lambda: actions.close_action(db, actor, action_id, review_id, today, resolution),
        "closed",
    )


# --- the execution log from a phone (issue 17): the same action as `cakupan plans log` -------


@router.get("/field-log")
def field_log_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    office: Annotated[str | None, Query()] = None,
    *,
    problems: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    """This week's field work of the office (visits, contacts, letters, registrations linked to
    the ledger by NIK, masked) and a one-hand form to log what was just done."""
    from cakupan.access import mask_nik

    code = (office or _default_office(actor)).strip().upper()
    actions.authorize_office(db, actor, code, "read")
    today = clock.now().astimezone(JAKARTA).date()
    monday = today - timedelta(days=today.weekday())
    entries = [
        {**entry, "nik": mask_nik(entry["nik"]) if entry["nik"] else None}
        for entry in queries.execution_log(db, code, monday, monday + timedelta(days=6))
    ]
    return render(
        request,
        "field_log.html",
        {
            "office": code,
            "entries": list(reversed(entries)),
            "today": today,
            "kinds": rules.EXECUTION_KINDS,
            "can_log": _may(db, actor, code, "cycle"),
            "problems": problems or [],
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


@router.post("/field-log", dependencies=[CsrfProtected])
def field_log_submit(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    office: Annotated[str, Form(max_length=20)] = "",
    kind: Annotated[str, Form(max_length=20)] = "",
    quantity: Annotated[str, Form(max_length=6)] = "1",
    done_on: Annotated[str, Form(max_length=10)] = "",
    nik: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Log one piece of field work as the signed-in user (staff), audited."""
    code = (office or _default_office(actor)).strip().upper()
    today = clock.now().astimezone(JAKARTA).date()
    actions.authorize_office(db, actor, code, "cycle")  # refused before anything is tried
    try:
        if not quantity.strip().isdigit():
            raise invalid(
                "quantity", t(f"angka, bukan {quantity!r}", f"a number, got {quantity!r}")
            )
        actions.log_execution(
            db,
            actor,
            code,
            _day("done_on", done_on) if done_on else today,
            "staff",
            actor.name,
            kind,
            quantity=int(quantity),
            nik=nik.strip() or None,
            note=note.strip() or None,
            clock=clock,
        )
    except CakupanError as error:
        db.rollback()
        return field_log_page(
            request,
            db,
            actor,
            clock,
            code,
            problems=[error.title, *error.problems],
            status_code=error.kind.http_status,
        )
    db.commit()
    return RedirectResponse(f"/field-log?office={code}&done=1", status_code=303)
