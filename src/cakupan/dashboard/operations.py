"""Operational pages behind the dashboard's figures: participant search and detail, on-site
registration (issues the kode penetapan), the participants/payments imports with their per-row
error report, and partner detail with its incentive statements. Reads are scoped and masked
(unmasking audited); writes go through the registry's actions and imports."""

from __future__ import annotations

import re
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from cakupan.access import SensitiveValue, reveal, sees_unmasked
from cakupan.auth import Actor, Role
from cakupan.contributions import load_policy_book
from cakupan.dashboard.import_progress import (
    ImportProgress,
    count_csv_rows,
    read_progress,
    valid_key,
)
from cakupan.dashboard.queries import PAGE_SIZE, participant_row_scope
from cakupan.dates import JAKARTA, Month
from cakupan.errors import CakupanError, FieldProblem, forbidden, invalid, not_found
from cakupan.formats import parse_rupiah
from cakupan.i18n import t
from cakupan.imports import ImportResult
from cakupan.regions.queries import resolve_area, search_areas
from cakupan.registry import (
    RegistrationRow,
    participant_detail,
    post_payment,
    register_participant,
)
from cakupan.registry.models import Occupation, Participant, Payment, PaymentCode
from cakupan.reminders import reminder_history
from cakupan.reminders.actions import STAFF_ROLES as REMINDER_STAFF_ROLES
from cakupan.web.deps import AppClock, CsrfProtected, DbSession, PageActor, RowId, request_lang
from cakupan.web.templating import render

router = APIRouter(include_in_schema=False)

#: Roles that register participants on site (partners and agents register their own).
REGISTRATION_ROLES = frozenset(
    {Role.ADMIN, Role.KABID, Role.ARK, Role.AR, Role.PAP, Role.PARTNER, Role.AGENT}
)
#: Roles that import participants and payments files.
IMPORT_ROLES = frozenset({Role.ADMIN, Role.KABID, Role.PAP})
#: The interpreter's switch interval (seconds) once a web import has run in this process.
IMPORT_SWITCH_INTERVAL = 0.0005
#: Roles that may search by full NIK (those that see NIKs in clear).
NIK_SEARCH_ROLES = frozenset({Role.ADMIN, Role.AUDITOR, Role.PAP})
FORM_FIELDS = (
    "nik",
    "name",
    "phone",
    "email",
    "occupation",
    "reported_income",
    "programs",
    "district_code",
    "village_code",
    "months_to_pay",
    "registered_on",
)


def links_for(role: Role) -> list[dict[str, Any]]:
    """The home page's links to the dashboard and the operational pages a role may use."""
    links: list[dict[str, Any]] = [
        {
            "href": "/dashboard",
            "label": t("Dasbor KPI", "KPI dashboard"),
            "hint": t(
                "Pendaftaran, retensi, kepatuhan, iuran, target; peringatan dini",
                "Registrations, retention, compliance, contributions, targets; early warnings",
            ),
        },
        {
            "href": "/participants",
            "label": t("Cari peserta", "Find participants"),
            "hint": t("Nama, telepon atau NIK", "Name, phone or NIK"),
        },
    ]
    if role in REGISTRATION_ROLES:
        links.append(
            {
                "href": "/participants/new",
                "label": t("Pendaftaran di tempat", "On-site registration"),
                "hint": t("Terbitkan kode penetapan", "Issue a payment code"),
            }
        )
    if role in IMPORT_ROLES:
        links.append(
            {
                "href": "/imports",
                "label": t("Impor berkas", "Import a file"),
                "hint": t("Peserta atau pembayaran", "Participants or payments"),
            }
        )
    return links


def _visible_participant(db: DbSession, actor: Actor, participant_id: int) -> Participant:
    row = db.scalar(
        select(Participant).where(
            Participant.id == participant_id, participant_row_scope(db, actor)
        )
    )
    if row is None:
        raise not_found(
            t(
                f"Peserta {participant_id} tidak ditemukan",
                f"Participant {participant_id} not found",
            ),
            code="participant-not-found",
        )
    return row


@router.get("/participants")
def participants_search(
    request: Request,
    db: DbSession,
    actor: PageActor,
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """Search participants within the scope by name (contains), phone (ends with) or, for roles
    that see NIKs in clear, the full NIK. Masked, paginated."""
    term = q.strip()
    rows: list[dict[str, Any]] = []
    total = 0
    problems: list[FieldProblem] = []
    if term:
        if re.fullmatch(r"\d{16}", term):
            if actor.role not in NIK_SEARCH_ROLES:
                problems.append(
                    FieldProblem(
                        field="q",
                        message=t(
                            "peran Anda tidak boleh mencari dengan NIK lengkap; cari nama atau telepon",
                            "your role may not search by full NIK; search a name or phone",
                        ),
                    )
                )
                condition = None
            else:
                condition = Participant.nik == term
        elif re.fullmatch(r"[0-9+ ]{4,}", term):
            condition = Participant.phone.like(f"%{term.replace(' ', '')}")
        else:
            condition = func.lower(Participant.name).contains(term.lower())
        if condition is not None:
            query = select(Participant).where(condition, participant_row_scope(db, actor))
            total = int(db.scalar(select(func.count()).select_from(query.subquery())) or 0)
            found = list(
                db.scalars(
                    query.order_by(Participant.name, Participant.id)
                    .limit(PAGE_SIZE)
                    .offset((page - 1) * PAGE_SIZE)
                )
            )
            shown = _shown(db, actor, found)
            rows = [
                {
                    "id": p.id,
                    "nik": nik,
                    "phone": phone,
                    "name": p.name,
                    "branch_code": p.branch_code,
                    "occupation": p.occupation,
                    "registered_on": p.registered_on,
                }
                for p, (nik, phone) in zip(found, shown, strict=True)
            ]
            db.commit()
    return render(
        request,
        "participants_search.html",
        {
            "q": term,
            "rows": rows,
            "total": total,
            "page": page,
            "page_size": PAGE_SIZE,
            "problems": problems,
        },
    )


def _shown(db: DbSession, actor: Actor, found: list[Participant]) -> list[tuple[str, str]]:
    values: list[SensitiveValue] = []
    for p in found:
        values.append(SensitiveValue("participant", p.id, "nik", p.nik, p.branch_code))
        values.append(SensitiveValue("participant", p.id, "phone", p.phone, p.branch_code))
    shown = reveal(db, actor, values) if values else []
    return [(shown[i], shown[i + 1]) for i in range(0, len(shown), 2)]


@router.get("/participants/new")
def registration_form(request: Request, db: DbSession, actor: PageActor) -> Response:
    """The on-site registration form."""
    if actor.role not in REGISTRATION_ROLES:
        raise forbidden()
    return _form(request, db, {}, {}, status_code=200)


def _form(
    request: Request,
    db: DbSession,
    values: dict[str, str],
    errors: dict[str, list[str]],
    *,
    status_code: int,
    error: CakupanError | None = None,
) -> Response:
    occupations = db.execute(
        select(Occupation.code, Occupation.name_id, Occupation.name_en)
        .where(Occupation.active)
        .order_by(Occupation.code)
    ).all()
    return render(
        request,
        "participant_new.html",
        {"values": values, "errors": errors, "occupations": occupations, "error": error},
        status_code=status_code,
    )


@router.post("/participants/new", dependencies=[CsrfProtected])
async def registration_submit(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock
) -> Response:
    """Register on site and show the kode penetapan (amount, months, validity); on errors the
    form again with each message next to its field. Partners and agents register as themselves."""
    if actor.role not in REGISTRATION_ROLES:
        raise forbidden()
    form = await request.form()
    values = {name: str(form.get(name) or "").strip() for name in FORM_FIELDS}
    today = clock.now().astimezone(JAKARTA).date()
    channel = {Role.PARTNER: "partner", Role.AGENT: "agent"}.get(actor.role, "branch")
    lang = request_lang(request)
    # As people type them: "1.500.000" / "Rp 1.500.000"; areas picked by name (the code rides
    # along in the picker's text); anything else goes to the registry, which names the field.
    income = parse_rupiah(values["reported_income"])
    district = resolve_area(db, values["district_code"], level="district")
    village = resolve_area(db, values["village_code"], level="village", within=district)
    errors: dict[str, list[str]] = {}
    for name, typed, found in (
        ("district_code", values["district_code"], district),
        ("village_code", values["village_code"], village),
    ):
        if typed and found is None:
            errors[name] = [
                t(
                    f"{typed!r} tidak ditemukan atau lebih dari satu: pilih dari daftar",
                    f"{typed!r} not found or not unique: choose from the list",
                ).render(lang)
            ]
    if errors:
        return _form(request, db, values, errors, status_code=422)
    row = RegistrationRow(
        row=1,
        nik=values["nik"],
        name=values["name"],
        phone=values["phone"],
        occupation=values["occupation"],
        reported_income=income if income is not None else values["reported_income"],
        programs=values["programs"],
        registered_on=values["registered_on"] or today,
        email=values["email"] or None,
        district_code=district,
        village_code=village,
        channel=channel,
        partner_code=actor.partner_code if actor.role in (Role.PARTNER, Role.AGENT) else None,
        agent_code=actor.agent_code if actor.role is Role.AGENT else None,
        months_to_pay=values["months_to_pay"] or 1,
    )
    try:
        registration = register_participant(db, actor, row, clock=clock)
    except CakupanError as error:
        db.rollback()
        for problem in error.problems:
            errors.setdefault(problem.field, []).append(problem.message.render(lang))
        return _form(request, db, values, errors, status_code=error.kind.http_status, error=error)
    db.commit()
    # Redirect after POST: a refresh shows the slip again instead of registering again.
    return RedirectResponse(f"/participants/{registration.participant_id}/slip", status_code=303)


def _slip_participant(db: DbSession, actor: Actor, participant_id: int) -> Participant:
    """The participant of a slip: within the actor's scope, or registered by the actor (an
    account representative registers people not yet assigned to them, and prints their slip)."""
    from cakupan.audit import AuditEntry

    registered_by_actor = db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "participant.register",
            AuditEntry.entity_type == "participant",
            AuditEntry.entity_id == str(participant_id),
            AuditEntry.actor == actor.name,
        )
    )
    if registered_by_actor:
        row = db.get(Participant, participant_id)
        if row is not None:
            return row
    return _visible_participant(db, actor, participant_id)


@router.get("/participants/{participant_id}/slip")
def registration_slip(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock, participant_id: RowId
) -> Response:
    """The printable kode penetapan slip of a participant's latest code: amount, months (with
    the month-by-month amounts when they differ, e.g. a discounted month), validity."""
    participant = _slip_participant(db, actor, participant_id)
    code = db.scalars(
        select(PaymentCode)
        .where(PaymentCode.participant_id == participant.id)
        .order_by(PaymentCode.id.desc())
        .limit(1)
    ).first()
    months: list[tuple[Month, int]] = []
    if code is not None:
        book = load_policy_book(db)
        for i in range(code.months):
            month = code.first_month + i
            months.append(
                (
                    month,
                    book.monthly_total(
                        income=participant.reported_income,
                        programs=participant.programs,
                        month=month,
                        sector=participant.sector,
                        funding=participant.funding,
                    ),
                )
            )
    differ = len({amount for _, amount in months}) > 1
    nik, _ = _shown(db, actor, [participant])[0]
    db.commit()
    return render(
        request,
        "payment_code.html",
        {
            "participant": participant,
            "nik": nik,
            "code": code,
            "months": months,
            "differ": differ,
            "breakdown_matches": code is not None and sum(a for _, a in months) == code.amount,
        },
    )


@router.get("/areas/search")
def area_search(
    request: Request,
    db: DbSession,
    actor: PageActor,
    level: str = "district",
    district_code: str = "",
    village_code: str = "",
) -> Response:
    """Search-as-you-type over the vendored areas: ``<option>`` elements for a datalist (htmx
    sends the picker's own field), each "Name, Regency (code)"; villages within the district
    already picked."""
    del actor  # any signed-in user; the areas are public reference data
    if level == "village":
        district = resolve_area(db, district_code, level="district") if district_code else None
        found = search_areas(db, village_code, level="village", within=district)
    else:
        found = search_areas(db, district_code, level="district")
    return render(request, "_area_options.html", {"options": found})


@router.get("/participants/{participant_id}")
def participant_page(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock, participant_id: RowId
) -> Response:
    """One participant: status, episodes, payments, codes and history (NIK and phone masked
    unless the role sees them; unmasking audited); the counter payment form for counter roles."""
    return _participant_page(request, db, actor, clock, participant_id)


def _participant_page(
    request: Request,
    db: DbSession,
    actor: Actor,
    clock: AppClock,
    participant_id: int,
    *,
    problems: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    participant = _visible_participant(db, actor, participant_id)
    today = clock.now().astimezone(JAKARTA).date()
    detail = participant_detail(db, participant.nik, today)
    reminders = reminder_history(db, participant.id, today)
    nik, phone = _shown(db, actor, [participant])[0]
    db.commit()
    return render(
        request,
        "participant_detail.html",
        {
            "p": participant,
            "nik": nik,
            "phone": phone,
            "detail": detail,
            "unmasked": sees_unmasked(actor, participant.branch_code),
            "counter": actor.role in COUNTER_ROLES,
            "counter_reference": f"LKT-{participant.id}-{secrets.token_hex(4).upper()}",
            "reminders": reminders,
            "reminder_staff": actor.role in REMINDER_STAFF_ROLES,
            "reminder_saved": request.query_params.get("reminders", ""),
            "problems": problems or [],
        },
        status_code=status_code,
    )


@router.get("/imports")
def imports_page(request: Request, actor: PageActor) -> Response:
    """Upload a participants or payments file."""
    if actor.role not in IMPORT_ROLES:
        raise forbidden()
    return render(request, "imports.html", {"result": None, "kind": "participants"})


@router.get("/imports/progress/{key}")
def import_progress(actor: PageActor, key: str) -> Response:
    """How far the signed-in user's upload ``key`` is: ``{"phase", "rows", "total",
    "percent"}`` (JSON); 404 when unknown, finished, or another user's."""
    if actor.role not in IMPORT_ROLES:
        raise forbidden()
    state = read_progress(actor.name, key)
    if state is None:
        raise not_found(
            t("Unggahan tidak ditemukan", "Upload not found"), code="import.progress_not_found"
        )
    return JSONResponse(state, headers={"Cache-Control": "no-store"})


def upload_name(filename: str | None) -> str:
    """The uploaded file's name as shown back: its last path part, without control characters,
    at most 120 characters (``upload.csv`` when nothing is left)."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip()
    if base in ("", ".", ".."):
        return "upload.csv"
    if len(base) > 120:
        suffix = Path(base).suffix[:8]
        base = base[: 120 - len(suffix)] + suffix
    return base


def _save_upload(file: UploadFile, path: Path) -> None:
    """Copy the upload to ``path`` in 1 MiB chunks (never the whole file in memory)."""
    import shutil

    file.file.seek(0)
    with path.open("wb") as handle:
        shutil.copyfileobj(file.file, handle, 1024 * 1024)


@router.post("/imports", dependencies=[CsrfProtected])
async def imports_submit(
    request: Request,
    actor: PageActor,
    clock: AppClock,
    file: UploadFile,
    kind: Annotated[str, Form()] = "participants",
    partial: Annotated[bool, Form()] = False,
    progress_id: Annotated[str | None, Form()] = None,
) -> Response:
    """Import the uploaded file through the registry's imports (audited once per file): every
    row is checked; unless ``partial`` nothing is posted when any row is rejected. The result
    lists every error by row and field, and the closed months the file's rows were late for
    (closed again right after the import). With ``progress_id`` (chosen by the page's script)
    the rows done are readable at ``/imports/progress/{progress_id}`` while the file is posted."""
    from cakupan.registry.imports import import_participants, import_payments
    from cakupan.scheduling import reclose_after_import

    if actor.role not in IMPORT_ROLES:
        raise forbidden()
    name = upload_name(file.filename)
    if kind not in ("participants", "payments"):
        kind = "participants"
    with tempfile.TemporaryDirectory(prefix="cakupan-import-") as folder:
        # Stored under a name of our own (the client's may be ``..`` or 300 characters long),
        # keeping only its extension; streamed to disk and imported in a worker thread, so a
        # large upload neither sits in memory nor blocks the event loop (issue 21).
        path = Path(folder) / ("upload" + Path(name).suffix.lower()[:8])
        await run_in_threadpool(_save_upload, file, path)
        runner = import_participants if kind == "participants" else import_payments
        engine = request.app.state.engine
        # The import thread computes in Python for minutes; the event loop and the request
        # threads wait for the interpreter lock behind it. A shorter switch interval than
        # Python's 5 ms gives it back to them sooner (benchmarks/bench_upload.py).
        if sys.getswitchinterval() > IMPORT_SWITCH_INTERVAL:
            sys.setswitchinterval(IMPORT_SWITCH_INTERVAL)
        tracker = (
            ImportProgress(actor.name, progress_id, count_csv_rows(path))
            if progress_id is not None and valid_key(progress_id)
            else None
        )

        def run() -> ImportResult:
            result = runner(
                engine,
                actor,
                path,
                partial=partial,
                clock=clock,
                progress=None if tracker is None else tracker.rows,
            )
            if tracker is not None and result.late_months:
                tracker.phase("reclose")
            return reclose_after_import(engine, actor, clock, result)

        try:
            result = await run_in_threadpool(run)
        except CakupanError as error:
            return render(
                request,
                "imports.html",
                {"result": None, "kind": kind, "error": error, "file_name": name},
                status_code=error.kind.http_status,
            )
        finally:
            if tracker is not None:
                tracker.close()
    return render(
        request,
        "imports.html",
        {"result": result, "kind": kind, "file_name": name, "partial": partial},
    )


@router.get("/partners/{code}/detail")
def partner_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    code: str,
    period: Annotated[str | None, Query()] = None,
) -> Response:
    """A partner within the scope: identity, agreements, agents under it, the incentive
    statements of a month (the previous month by default) and its bundling offers with their
    report as of today."""
    from cakupan.bundling import offers_with_reports
    from cakupan.incentives.queries import visible_statements
    from cakupan.partners import queries as partner_queries

    visible = (
        None
        if actor.sees_everything
        else {p.code for p in partner_queries.list_partners(db, actor)}
    )
    info = partner_queries.partner(db, code)
    if info is None or (visible is not None and code not in visible):
        raise not_found(
            t(f"Mitra/agen {code} tidak ditemukan", f"Partner/agent {code} not found"),
            code="partner-not-found",
        )
    try:
        month = Month.parse(period) if period else None
    except ValueError:
        month = None
    if month is None:
        month = Month.of(request.app.state.clock.now().astimezone(JAKARTA).date()) + -1
    statements = [s for s in visible_statements(db, actor, month) if s["partner_code"] == code]
    today = request.app.state.clock.now().astimezone(JAKARTA).date()
    return render(
        request,
        "partner_detail.html",
        {
            "info": info,
            "agents": sorted(partner_queries.agents_under(db, code)),
            "agreements": partner_queries.agreements_of(db, code),
            "statements": statements,
            "period": month,
            "offers": offers_with_reports(db, code, today),
        },
    )


# --- counter payment (issue 17): one payment at the branch counter, with its receipt ---------

#: Roles that take a payment at the counter (the same roles that post payment files).
COUNTER_ROLES = IMPORT_ROLES


@router.post("/participants/{participant_id}/payments", dependencies=[CsrfProtected])
async def counter_payment(
    request: Request, db: DbSession, actor: PageActor, clock: AppClock, participant_id: RowId
) -> Response:
    """Post one payment taken at the counter through the registry's action (audited), then the
    printable receipt (redirect after POST). The form's own reference makes a second submit of
    the same form a duplicate, not a second payment."""
    if actor.role not in COUNTER_ROLES:
        raise forbidden()
    participant = _visible_participant(db, actor, participant_id)
    form = await request.form()
    typed = str(form.get("amount") or "").strip()
    reference = str(form.get("reference") or "").strip()
    amount = parse_rupiah(typed)
    today = clock.now().astimezone(JAKARTA).date()
    try:
        if amount is None:
            raise invalid(
                "amount",
                t(
                    f"jumlah rupiah seperti 16.800 atau Rp 16.800, bukan {typed!r}",
                    f"an amount of rupiah such as 16.800 or Rp 16.800, got {typed!r}",
                ),
            )
        posted = post_payment(
            db,
            actor,
            nik=participant.nik,
            amount=amount,
            paid_on=today,
            reference=reference,
            channel="branch",  # the branch counter (registry/data/payment_channels.csv)
            clock=clock,
        )
    except CakupanError as error:
        db.rollback()
        return _participant_page(
            request,
            db,
            actor,
            clock,
            participant_id,
            problems=[error.title, *error.problems],
            status_code=error.kind.http_status,
        )
    db.commit()
    return RedirectResponse(f"/payments/{posted.payment_id}/receipt", status_code=303)


@router.get("/payments/{payment_id}/receipt")
def payment_receipt(
    request: Request, db: DbSession, actor: PageActor, payment_id: RowId
) -> Response:
    """A payment's printable receipt (tanda terima): who, how much, which months, paid through."""
    payment = db.get(Payment, payment_id)
    if payment is None:
        raise not_found(
            t(f"Pembayaran {payment_id} tidak ditemukan", f"Payment {payment_id} not found")
        )
    participant = _visible_participant(db, actor, payment.participant_id)
    nik, _ = _shown(db, actor, [participant])[0]
    db.commit()
    return render(
        request,
        "payment_receipt.html",
        {
            "payment": payment,
            "participant": participant,
            "nik": nik,
            "last_month": payment.first_month + (payment.months - 1),
        },
    )
