"""Pages of the incentives area: the list of stored statements (filters: period, scheme, status,
partner), a statement with its lines, the approval workflow (approve, mark paid, dispute with a
reason, reopen) and the XLSX/PDF exports.

Every page reads through :mod:`cakupan.incentives.queries` with the actor's scope (national
roles everything, branch and regional roles the partners of their offices, a partner itself and
its agents, an agent itself); a statement out of scope is "not found". Status changes go
through :func:`cakupan.incentives.actions.set_statement_status` (roles, transitions, audit,
the ``incentive_statement.approved`` webhook). NIKs are shown masked on these pages and in the
files downloaded from them.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from cakupan.access import mask_nik
from cakupan.auth import Actor
from cakupan.dates import Month
from cakupan.errors import CakupanError, invalid
from cakupan.i18n import t
from cakupan.incentives import exports, queries
from cakupan.incentives.actions import STATEMENT_TRANSITIONS, may_set_status, set_statement_status
from cakupan.incentives.models import STATEMENT_STATUSES, IncentiveStatement
from cakupan.web.deps import AppClock, CsrfProtected, DbSession, PageActor, RowId
from cakupan.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_LABELS = {
    "draft": ("Draf", "Draft"),
    "approved": ("Disetujui", "Approved"),
    "paid": ("Dibayar", "Paid"),
    "disputed": ("Disanggah", "Disputed"),
}
KIND_LABELS_EN = {
    "milestone_1": "1st month paid",
    "milestone_3": "3rd month paid",
    "milestone_6": "6th month paid",
    "commission": "Commission",
    "acquisition": "New participant",
    "contribution_share": "Share of contributions",
    "override": "Wadah override",
    "threshold": "Registration threshold reached",
    "clawback": "Clawback (payment reversed)",
    "adjustment": "Adjustment (late payment)",
}
#: The buttons of the workflow: target status -> (Indonesian, English) label.
ACTIONS = {
    "approved": ("Setujui", "Approve"),
    "paid": ("Tandai dibayar", "Mark paid"),
    "disputed": ("Sanggah", "Dispute"),
    "draft": ("Buka kembali (draf)", "Reopen (draft)"),
}


def _kind_label(kind: str) -> Any:
    indonesian = "Penyesuaian (pembayaran terlambat)" if kind == "adjustment" else None
    return t(indonesian or exports.kind_label(kind), KIND_LABELS_EN.get(kind, kind))


def _period(value: str | None) -> Month | None:
    if not value:
        return None
    try:
        return Month.parse(value)
    except ValueError:
        raise invalid(
            "period",
            t(f"periode harus YYYY-MM, bukan {value!r}", f"period must be YYYY-MM, not {value!r}"),
        ) from None


def _periods(db: DbSession, actor: Actor) -> list[str]:
    """The periods with stored statements the actor may read, newest first (the filter)."""
    query = select(IncentiveStatement.period).distinct()
    scope = queries.visible_partners_query(db, actor)
    if scope is not None:
        query = query.where(IncentiveStatement.partner_code.in_(scope))
    return sorted((str(month) for month in db.scalars(query)), reverse=True)


@router.get("/incentives/statements")
def statements_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    period: Annotated[str, Query(max_length=7)] = "",
    scheme: Annotated[str, Query(max_length=60)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    partner: Annotated[str, Query(max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    *,
    problems: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    """Stored statements in the actor's scope, newest period first, 50 per page."""
    month = _period(period)
    chosen_status = status if status in STATEMENT_STATUSES else ""
    partners = queries.statement_partner_choices(db, actor)
    rows, count = queries.statement_summaries(
        db,
        actor,
        period=month,
        scheme=scheme or None,
        status=chosen_status or None,
        partner=partner or None,
        exact_partner=partner in {code for code, _ in partners},
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    filters = {
        "period": period,
        "scheme": scheme,
        "status": chosen_status,
        "partner": partner,
    }
    kept = {key: value for key, value in filters.items() if value}
    pages = max(1, -(-count // PAGE_SIZE))
    return render(
        request,
        "incentives_statements.html",
        {
            "rows": rows,
            "count": count,
            "page": page,
            "pages": pages,
            "filters": filters,
            "previous_url": (f"?{urlencode({**kept, 'page': page - 1})}" if page > 1 else None),
            "next_url": (f"?{urlencode({**kept, 'page': page + 1})}" if page < pages else None),
            "periods": _periods(db, actor),
            "partners": partners,
            "schemes": sorted(queries.scheme_names(db)),
            "statuses": STATEMENT_STATUSES,
            "status_labels": STATUS_LABELS,
            "may_approve": may_set_status(actor, "approved"),
            "approved_count": request.query_params.get("approved"),
            "problems": problems or [],
            "back": f"?{urlencode(kept)}" if kept else "",
        },
        status_code=status_code,
    )


def _detail(
    request: Request,
    db: DbSession,
    actor: Actor,
    statement_id: RowId,
    *,
    problems: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    statement = queries.visible_statement(db, actor, statement_id)
    allowed = [
        target
        for target in ACTIONS
        if target in STATEMENT_TRANSITIONS.get(statement["status"], frozenset())
        and may_set_status(actor, target)
    ]
    lines = [  # NIKs come masked (or revealed, audited) from the query, with the name beside
        {
            **line,
            "nik": mask_nik(line["nik"]) if line["nik"] else None,
            "label": _kind_label(line["kind"]),
        }
        for line in statement["lines"]
    ]
    return render(
        request,
        "incentives_statement.html",
        {
            "s": statement,
            "changed_at": (
                datetime.fromisoformat(statement["status_changed_at"])
                if statement["status_changed_at"]
                else None
            ),
            "lines": lines,
            "actions": [(target, ACTIONS[target]) for target in allowed],
            "status_labels": STATUS_LABELS,
            "problems": problems or [],
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


@router.get("/incentives/statements/{statement_id}")
def statement_page(
    request: Request, db: DbSession, actor: PageActor, statement_id: RowId
) -> Response:
    """One statement: title block, its lines with their references, the total, the fees paid by
    participants, its status history, and the workflow buttons the actor may use."""
    return _detail(request, db, actor, statement_id)


@router.post("/incentives/statements/approve", dependencies=[CsrfProtected])
async def approve_many(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock
) -> Response:
    """Approve every ticked draft statement at once (the head of membership): each through the
    same action as one at a time (audited each), all in one transaction: either every one is
    approved or none is, with the reason."""
    form = await request.form()
    ids = [int(str(v)) for v in form.getlist("statement") if str(v).isdigit()]
    back = str(form.get("back") or "")
    back = back if back.startswith("?") else ""
    try:
        if not ids:
            raise invalid(
                "statement",
                t("pilih minimal satu laporan draf", "tick at least one draft statement"),
            )
        for statement_id in ids:
            statement = queries.visible_statement(db, actor, statement_id)
            set_statement_status(
                db,
                actor,
                clock,
                Month.parse(statement["period"]),
                statement["partner_code"],
                statement["scheme"],
                "approved",
            )
    except CakupanError as error:
        db.rollback()
        return statements_page(
            request,
            db,
            actor,
            problems=[error.title, *error.problems],
            status_code=error.kind.http_status,
        )
    db.commit()
    separator = "&" if back else "?"
    return RedirectResponse(
        f"/incentives/statements{back}{separator}approved={len(ids)}", status_code=303
    )


@router.post("/incentives/statements/{statement_id}/status", dependencies=[CsrfProtected])
def statement_status(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    statement_id: RowId,
    to: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Move the statement to ``to`` (approved, paid, disputed with a reason, draft)."""
    statement = queries.visible_statement(db, actor, statement_id)
    try:
        if to not in ACTIONS:
            raise invalid("to", t(f"status tidak dikenal: {to!r}", f"unknown status: {to!r}"))
        set_statement_status(
            db,
            actor,
            clock,
            Month.parse(statement["period"]),
            statement["partner_code"],
            statement["scheme"],
            to,
            reason=reason or None,
        )
    except CakupanError as error:
        db.rollback()
        return _detail(
            request,
            db,
            actor,
            statement_id,
            problems=[error.title, *error.problems],
            status_code=error.kind.http_status,
        )
    db.commit()
    return RedirectResponse(f"/incentives/statements/{statement_id}?done={to}", status_code=303)


def _masked(statement: dict[str, Any]) -> dict[str, Any]:
    return {
        **statement,
        "lines": [
            {**line, "nik": mask_nik(line["nik"]) if line["nik"] else None}
            for line in statement["lines"]
        ],
    }


@router.get("/incentives/statements/{statement_id}/export.{fmt}")
def statement_export(db: DbSession, actor: PageActor, statement_id: RowId, fmt: str) -> Response:
    """The statement as XLSX or PDF (Bahasa Indonesia, rupiah), NIKs masked."""
    if fmt not in ("xlsx", "pdf"):
        raise invalid("format", t("format harus xlsx atau pdf", "format must be xlsx or pdf"))
    statement = _masked(queries.visible_statement(db, actor, statement_id))
    name = statement["partner_name"] or statement["partner_code"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"statement.{fmt}"
        writer = exports.write_xlsx if fmt == "xlsx" else exports.write_pdf
        writer(statement, statement["period"], name, path)
        content = path.read_bytes()
    file_name = f"insentif-{statement['partner_code']}-{statement['period']}-{statement['scheme']}"
    return Response(
        content,
        media_type=XLSX if fmt == "xlsx" else "application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{file_name}.{fmt}"'},
    )
