"""``/api/v1/dashboard``: the shared KPI dashboard as JSON (token or page session), scoped to the
caller. Thin: every figure comes from :mod:`cakupan.dashboard.queries`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from cakupan.dashboard import actions, queries
from cakupan.dashboard.queries import Filters
from cakupan.dates import Month, today
from cakupan.errors import invalid, not_found
from cakupan.i18n import t
from cakupan.registry.models import Participant
from cakupan.web.deps import ApiActor, AppClock, DbSession, RowId

router = APIRouter(prefix="/dashboard", tags=["dashboard"])


def dashboard_filters(
    first: Annotated[str | None, Query(description="First month YYYY-MM")] = None,
    last: Annotated[str | None, Query(description="Last month YYYY-MM")] = None,
    region: str | None = None,
    branch: str | None = None,
    partner: str | None = None,
    channel: str | None = None,
    occupation: str | None = None,
    programs: Annotated[str | None, Query(description="JKK+JKM or JKK+JKM+JHT")] = None,
    offer: Annotated[str | None, Query(description="A bundling offer's code")] = None,
) -> Filters:
    """The dashboard's filters from the query string (shared by the API and the pages)."""
    return Filters.parse(
        first=first,
        last=last,
        region=region,
        branch=branch,
        partner=partner,
        channel=channel,
        occupation=occupation,
        programs=programs,
        offer=offer,
    )


DashboardFilters = Annotated[Filters, Depends(dashboard_filters)]


def parse_month(name: str, value: str | None) -> Month | None:
    """``YYYY-MM`` or None; INVALID naming the field otherwise."""
    if value is None or not value.strip():
        return None
    try:
        return Month.parse(value.strip())
    except ValueError:
        raise invalid(
            name, t(f"bulan YYYY-MM, bukan {value!r}", f"a month YYYY-MM, got {value!r}")
        ) from None


@router.get("/summary")
def summary(actor: ApiActor, db: DbSession, filters: DashboardFilters) -> dict[str, Any]:
    """The KPI cards of the period (default: the 12 closed months up to the latest close)."""
    result = queries.summary(db, actor, filters)
    document = result.as_json()
    resolved = result.filters
    if resolved.first is not None and resolved.last is not None:
        from cakupan.claims.queries import benefits_paid

        document["benefits_paid"] = benefits_paid(
            db,
            actor,
            resolved.first,
            resolved.last,
            region=resolved.region,
            branch=resolved.branch,
            partner=resolved.partner,
        ).as_json()
        document.pop("benefits_note", None)
    return document


@router.get("/trend")
def trend(actor: ApiActor, db: DbSession, filters: DashboardFilters) -> dict[str, Any]:
    """The KPIs per closed month of the period."""
    return queries.trend(db, actor, filters)


@router.get("/cohorts")
def cohorts(actor: ApiActor, db: DbSession, filters: DashboardFilters) -> dict[str, Any]:
    """Retention curves of the period's registration cohorts (age 0..12)."""
    return queries.cohorts(db, actor, filters)


@router.get("/league")
def league(actor: ApiActor, db: DbSession, filters: DashboardFilters) -> dict[str, Any]:
    """Partners ranked on retention and compliance (a partner sees anonymised peers)."""
    return queries.league(db, actor, filters)


@router.get("/warnings")
def warnings(actor: ApiActor, db: DbSession, filters: DashboardFilters) -> dict[str, Any]:
    """Segments, partners and branches whose retention or compliance dropped (rules as data)."""
    return queries.warnings(db, actor, filters)


@router.get("/records")
def records(
    actor: ApiActor,
    db: DbSession,
    filters: DashboardFilters,
    kpi: str,
    month: str | None = None,
    page: int = 1,
    after: int | None = None,
    cohort: str | None = None,
) -> dict[str, Any]:
    """The records behind a KPI figure of one month: scoped, masked, paginated (``after`` =
    the previous page's ``next_after``: keyset, index order). ``kpi=retained&cohort=C&month=M``:
    the episodes of cohort C still active at the end of M (a cohort heatmap cell)."""
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
    db.commit()  # the unmasking audit, if any
    return result


@router.get("/worklist")
def worklist(
    actor: ApiActor,
    db: DbSession,
    filters: DashboardFilters,
    kind: str = "arrears",
    page: int = 1,
    after: int | None = None,
) -> dict[str, Any]:
    """Participants in arrears (or closed, to re-acquire) with their latest contact."""
    result = queries.worklist(db, actor, kind, filters, page=page, after=after)
    db.commit()
    return result


class ContactCreate(BaseModel):
    """A contact with a participant of the worklist."""

    participant_id: int = Field(ge=1, le=2**62)
    outcome: str
    reason: str | None = None
    promised_on: str | None = None
    note: str | None = None


@router.post("/contacts", status_code=201)
def create_contact(
    body: ContactCreate, actor: ApiActor, db: DbSession, clock: AppClock
) -> dict[str, Any]:
    """Log a contact (called, visited, promised_to_pay with a date, refused with a reason)."""
    recorded = actions.record_contact(
        db,
        actor,
        body.participant_id,
        outcome=body.outcome,
        reason=body.reason,
        promised_on=body.promised_on,
        note=body.note,
        clock=clock,
    )
    db.commit()
    return recorded.as_json()


@router.get("/contacts/{participant_id}")
def contacts(participant_id: RowId, actor: ApiActor, db: DbSession) -> list[dict[str, Any]]:
    """The contact log of a participant within the caller's scope."""
    return queries.contacts_of(db, actor, participant_id)


@router.get("/reminders/{participant_id}")
def reminders(
    participant_id: RowId, actor: ApiActor, db: DbSession, clock: AppClock
) -> dict[str, Any]:
    """A participant's reminders (status, the first payment after each) and their consent or
    opt-out, within the caller's scope (404 outside it)."""
    from cakupan.reminders import reminder_history

    visible = db.scalar(
        select(Participant.id).where(
            Participant.id == participant_id, queries.participant_row_scope(db, actor)
        )
    )
    if visible is None:
        raise not_found(
            t(
                f"Peserta {participant_id} tidak ditemukan",
                f"Participant {participant_id} not found",
            ),
            code="participant-not-found",
        )
    return reminder_history(db, participant_id, today(clock))
