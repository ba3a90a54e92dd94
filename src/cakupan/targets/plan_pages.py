"""Work plans on the web (issue 17): an office's weekly and monthly plans, a plan with its
activities (where, whom, who, expected results) and what the execution log holds for each,
and the forms to create a plan, add an activity and record what an activity achieved. The same
actions as `cakupan plans create/add-activity/log` (validated, audited); reads check the
office first (:func:`cakupan.targets.actions.authorize_office`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.dates import JAKARTA, Clock
from cakupan.errors import CakupanError, invalid
from cakupan.i18n import t
from cakupan.targets import actions, queries, rules
from cakupan.targets.models import PerformancePlan, PlanActivity
from cakupan.web.deps import AppClock, CsrfProtected, DbSession, PageActor, RowId
from cakupan.web.templating import render

router = APIRouter(include_in_schema=False)


def _default_office(actor: Actor) -> str:
    return actor.branch_code or actor.region_code or rules.NATIONAL


def _may(db: Session, actor: Actor, code: str, purpose: rules.Purpose) -> bool:
    try:
        actions.authorize_office(db, actor, code, purpose)
    except CakupanError:
        return False
    return True


def _day(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise invalid(
            name,
            t("tanggal YYYY-MM-DD, bukan {v!r}", "a date YYYY-MM-DD, got {v!r}").format(v=value),
        ) from None


def _whole(name: str, value: str) -> int:
    text = value.strip().replace(".", "") or "0"
    if not text.isdigit():
        raise invalid(
            name,
            t("bilangan bulat >= 0, bukan {v!r}", "a whole number >= 0, got {v!r}").format(v=value),
        )
    return int(text)


@router.get("/plans")
def plans_page(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    office: Annotated[str | None, Query(max_length=20)] = None,
    *,
    problems: list[Any] | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    """The office's plans, newest first, with the number of activities; the form to create one
    for who may plan the office's work."""
    code = actions.check_office(db, office or _default_office(actor))
    actions.authorize_office(db, actor, code, "read")
    counts = (
        select(PlanActivity.plan_id, func.count().label("activities"))
        .group_by(PlanActivity.plan_id)
        .subquery()
    )
    plans = db.execute(
        select(PerformancePlan, func.coalesce(counts.c.activities, 0))
        .outerjoin(counts, counts.c.plan_id == PerformancePlan.id)
        .where(PerformancePlan.office_code == code)
        .order_by(PerformancePlan.first_day.desc(), PerformancePlan.kind)
    ).all()
    return render(
        request,
        "plans.html",
        {
            "office": code,
            "offices": queries.office_choices(db, actor),
            "plans": plans,
            "kinds": rules.PLAN_KINDS,
            "today": clock.now().astimezone(JAKARTA).date(),
            "can_plan": _may(db, actor, code, "cycle"),
            "problems": problems or [],
            "form": form or {},
        },
        status_code=status_code,
    )


@router.post("/plans", dependencies=[CsrfProtected])
def plan_create(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    office: Annotated[str, Form(max_length=20)] = "",
    kind: Annotated[str, Form(max_length=10)] = "week",
    start: Annotated[str, Form(max_length=10)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Create a week's plan (from its Monday) or a month's (from the 1st), as `cakupan plans
    create`; then the plan's page."""
    code = actions.check_office(db, office or _default_office(actor))
    actions.authorize_office(db, actor, code, "cycle")  # refused before anything is tried
    try:
        plan = actions.committed(
            db,
            lambda: actions.create_plan(
                db, actor, code, kind, _day("start", start), title, clock=clock
            ),
        )
    except CakupanError as error:
        return plans_page(
            request,
            db,
            actor,
            clock,
            code,
            problems=[error.title, *error.problems],
            status_code=error.kind.http_status,
            form={"kind": kind, "start": start, "title": title},
        )
    return RedirectResponse(f"/plans/{plan.id}", status_code=303)


def _plan_page(
    request: Request,
    db: Session,
    actor: Actor,
    plan_id: int,
    *,
    problems: list[Any] | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    view = queries.plan_view(db, plan_id)
    actions.authorize_office(db, actor, view["office_code"], "read")
    return render(
        request,
        "plan_detail.html",
        {
            "plan": view,
            "first_day": date.fromisoformat(view["first_day"]),
            "last_day": date.fromisoformat(view["last_day"]),
            "segments": rules.SEGMENTS,
            "assignee_kinds": rules.ASSIGNEE_KINDS,
            "execution_kinds": rules.EXECUTION_KINDS,
            "partners": queries.partner_choices(db, view["office_code"]),
            "can_plan": _may(db, actor, view["office_code"], "cycle"),
            "problems": problems or [],
            "form": form or {},
            "done": request.query_params.get("done"),
        },
        status_code=status_code,
    )


@router.get("/plans/{plan_id}")
def plan_page(request: Request, db: DbSession, actor: PageActor, plan_id: RowId) -> Response:
    """A plan with its activities: expected registrations and contributions beside what the
    execution log records for each (visits, contacts, letters, new businesses, registrations)."""
    return _plan_page(request, db, actor, plan_id)


def _plan_write(
    request: Request,
    db: Session,
    actor: Actor,
    plan_id: int,
    form: dict[str, str],
    write: Callable[[], object],
    done: str,
) -> Response:
    """One plan action; on an error the plan again with the problems and the form as typed,
    nothing written; else back to the plan (redirect after POST)."""
    plan = actions.get_plan(db, plan_id)
    actions.authorize_office(db, actor, plan.office_code, "cycle")  # refused before anything
    try:
        actions.committed(db, write)
    except CakupanError as error:
        return _plan_page(
            request,
            db,
            actor,
            plan_id,
            problems=[error.title, *error.problems],
            status_code=error.kind.http_status,
            form=form,
        )
    return RedirectResponse(f"/plans/{plan_id}?done={done}", status_code=303)


def _activity_input(db: Session, form: dict[str, str]) -> actions.ActivityInput:
    """An activity as its form gives it: the district picked by name (or code), dates and
    numbers as typed (expected contributions as rupiah, ``Rp 1.500.000``); INVALID naming the
    field otherwise."""
    from cakupan.formats import parse_rupiah
    from cakupan.regions.queries import resolve_area

    district = resolve_area(db, form["district"], level="district")
    if district is None:
        raise invalid(
            "district",
            t(
                "pilih kecamatan dari daftar (ketik namanya), didapat {v!r}",
                "pick a district from the list (type its name), got {v!r}",
            ).format(v=form["district"]),
        )
    contributions = parse_rupiah(form["expected_contributions"] or "0")
    if contributions is None:
        raise invalid(
            "expected_contributions",
            t(
                "rupiah (mis. Rp 1.500.000), bukan {v!r}",
                "rupiah (e.g. Rp 1.500.000), got {v!r}",
            ).format(v=form["expected_contributions"]),
        )
    scheduled = form["scheduled_on"].strip()
    return actions.ActivityInput(
        activity=form["activity"],
        district_code=district,
        segment=form["segment"],
        prospects=form["prospects"],
        assignee_kind=form["assignee_kind"],
        assignee_code=form["assignee_code"],
        scheduled_on=_day("scheduled_on", scheduled) if scheduled else None,
        expected_registrations=_whole("expected_registrations", form["expected_registrations"]),
        expected_contributions=contributions,
    )


@router.post("/plans/{plan_id}/activities", dependencies=[CsrfProtected])
def plan_add_activity(
    request: Request,
    db: DbSession,
    actor: PageActor,
    plan_id: RowId,
    activity: Annotated[str, Form(max_length=40)] = "",
    district_code: Annotated[str, Form(max_length=200)] = "",
    prospects: Annotated[str, Form(max_length=200)] = "",
    segment: Annotated[str, Form(max_length=10)] = "BPU",
    assignee_kind: Annotated[str, Form(max_length=10)] = "staff",
    assignee_code: Annotated[str, Form(max_length=40)] = "",
    scheduled_on: Annotated[str, Form(max_length=10)] = "",
    expected_registrations: Annotated[str, Form(max_length=12)] = "0",
    expected_contributions: Annotated[str, Form(max_length=20)] = "0",
) -> Response:
    """Add who does what, where and for whom, with the results expected (`cakupan plans
    add-activity`); the district is picked by name."""
    form = {
        "activity": activity,
        "district": district_code,
        "prospects": prospects,
        "segment": segment,
        "assignee_kind": assignee_kind,
        "assignee_code": assignee_code,
        "scheduled_on": scheduled_on,
        "expected_registrations": expected_registrations,
        "expected_contributions": expected_contributions,
    }
    return _plan_write(
        request,
        db,
        actor,
        plan_id,
        form,
        lambda: actions.add_activity(db, actor, plan_id, _activity_input(db, form)),
        "activity",
    )


@router.post("/plans/{plan_id}/activities/{activity_id}", dependencies=[CsrfProtected])
def plan_edit_activity(
    request: Request,
    db: DbSession,
    actor: PageActor,
    plan_id: RowId,
    activity_id: RowId,
    activity: Annotated[str, Form(max_length=40)] = "",
    district_code: Annotated[str, Form(max_length=200)] = "",
    prospects: Annotated[str, Form(max_length=200)] = "",
    segment: Annotated[str, Form(max_length=10)] = "BPU",
    assignee_kind: Annotated[str, Form(max_length=10)] = "staff",
    assignee_code: Annotated[str, Form(max_length=40)] = "",
    scheduled_on: Annotated[str, Form(max_length=10)] = "",
    expected_registrations: Annotated[str, Form(max_length=12)] = "0",
    expected_contributions: Annotated[str, Form(max_length=20)] = "0",
) -> Response:
    """Change a planned activity (`cakupan plans edit-activity`): the same fields and checks as
    adding one; what was logged for it stays linked."""
    form = {
        "activity": activity,
        "district": district_code,
        "prospects": prospects,
        "segment": segment,
        "assignee_kind": assignee_kind,
        "assignee_code": assignee_code,
        "scheduled_on": scheduled_on,
        "expected_registrations": expected_registrations,
        "expected_contributions": expected_contributions,
    }
    form["edit_activity"] = str(activity_id)

    def write() -> object:
        if actions.get_activity(db, activity_id).plan_id != plan_id:
            raise invalid(
                "activity",
                t(
                    "kegiatan {a} bukan bagian rencana {p}", "activity {a} is not part of plan {p}"
                ).format(a=activity_id, p=plan_id),
            )
        return actions.update_activity(db, actor, activity_id, _activity_input(db, form))

    return _plan_write(request, db, actor, plan_id, form, write, "changed")


@router.post("/plans/{plan_id}/activities/{activity_id}/log", dependencies=[CsrfProtected])
def plan_log_activity(
    request: Request,
    db: DbSession,
    actor: PageActor,
    clock: AppClock,
    plan_id: RowId,
    activity_id: RowId,
    kind: Annotated[str, Form(max_length=20)] = "",
    quantity: Annotated[str, Form(max_length=6)] = "1",
    done_on: Annotated[str, Form(max_length=10)] = "",
    nik: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Record what an activity achieved (`cakupan plans log --activity`): by the activity's
    assignee, on a day (today by default); a registration may carry the participant's NIK."""
    form = {"log_activity": str(activity_id), "kind": kind, "quantity": quantity, "note": note}
    today = _today(clock)

    def write() -> object:
        planned = db.get(PlanActivity, activity_id)
        if planned is None or planned.plan_id != plan_id:
            raise invalid(
                "activity",
                t(
                    "kegiatan {a} bukan bagian rencana {p}", "activity {a} is not part of plan {p}"
                ).format(a=activity_id, p=plan_id),
            )
        plan = actions.get_plan(db, plan_id)
        count = quantity.strip()
        if not count.isdigit():
            raise invalid(
                "quantity", t("angka, bukan {v!r}", "a number, got {v!r}").format(v=quantity)
            )
        return actions.log_execution(
            db,
            actor,
            plan.office_code,
            _day("done_on", done_on) if done_on.strip() else today,
            planned.assignee_kind,
            planned.assignee_code,
            kind,
            quantity=int(count),
            activity_id=activity_id,
            nik=nik.strip() or None,
            note=note.strip() or None,
            clock=clock,
        )

    return _plan_write(request, db, actor, plan_id, form, write, "logged")


def _today(clock: Clock) -> date:
    return clock.now().astimezone(JAKARTA).date()
