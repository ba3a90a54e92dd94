"""``/api/v1/retention``: the retention workbench for partners and staff (token or page session):
the worklists, contact outcomes and owner assignment, scoped to the caller exactly like the
pages. Thin over :mod:`cakupan.retention`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from cakupan.dates import parse_date, today
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.retention.actions import assign_owner, record_outcome
from cakupan.retention.queries import WorklistFilters, outcomes_report, worklist
from cakupan.web.deps import ApiActor, AppClock, DbSession

router = APIRouter(prefix="/retention", tags=["retention"])


def parse_day(name: str, value: str | None) -> date | None:
    """``YYYY-MM-DD`` or None; INVALID naming the field otherwise."""
    if value is None or not value.strip():
        return None
    try:
        return parse_date(value.strip())
    except ValueError:
        raise invalid(
            name, t(f"tanggal YYYY-MM-DD, bukan {value!r}", f"a date YYYY-MM-DD, got {value!r}")
        ) from None


@router.get("/worklist")
def get_worklist(
    actor: ApiActor,
    db: DbSession,
    clock: AppClock,
    list_name: Annotated[str, Query(alias="list")] = "due",
    as_of: str | None = None,
    branch: str | None = None,
    partner: str | None = None,
    owner: str | None = None,
    village: str | None = None,
    occupation: str | None = None,
    risk: Annotated[str | None, Query(description="high, medium or low")] = None,
    not_contacted: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """One worklist (``unpaid_registration``, ``due``, ``arrears``, ``closed_recent``) as of a
    date (default today), in the caller's scope; phones in clear for callers (audited)."""
    day = parse_day("as_of", as_of) or today(clock)
    filters = WorklistFilters(
        branch=branch,
        partner=partner,
        owner=owner,
        village=village,
        occupation=occupation,
        risk_band=risk,
        not_contacted=not_contacted,
    )
    result = worklist(db, actor, list_name, day, filters, limit=limit, offset=offset)
    db.commit()  # the audit row of revealed phones
    return result


class OutcomeCreate(BaseModel):
    """The outcome of a contact with a participant (by NIK)."""

    nik: str
    outcome: str
    promised_on: str | None = None
    reason: str | None = None
    note: str | None = None
    follow_up: str | None = None


@router.post("/contacts", status_code=201)
def create_outcome(
    body: OutcomeCreate, actor: ApiActor, db: DbSession, clock: AppClock
) -> dict[str, Any]:
    """Record a contact outcome (no_answer, wrong_number, promised_to_pay + promised_on,
    refused + reason, already_paid, call_back) with its follow-up date."""
    recorded = record_outcome(
        db,
        actor,
        body.nik,
        outcome=body.outcome,
        promised_on=body.promised_on,
        reason=body.reason,
        note=body.note,
        follow_up=body.follow_up,
        clock=clock,
    )
    db.commit()
    return recorded.as_json()


class AssignmentCreate(BaseModel):
    """Owner (a username; null removes the owner) of the participants ``niks``."""

    owner: str | None
    niks: list[str]


@router.post("/assignments")
def create_assignment(
    body: AssignmentCreate, actor: ApiActor, db: DbSession, clock: AppClock
) -> dict[str, Any]:
    """Assign an owner to participants (kabid: ark/ar of the branch, agents, partners; a
    partner: itself or its agents). All or nothing."""
    result = assign_owner(db, actor, body.owner, body.niks, clock=clock)
    db.commit()
    return result


@router.get("/outcomes")
def get_outcomes(
    actor: ApiActor, db: DbSession, clock: AppClock, snapshot: str | None = None
) -> dict[str, Any]:
    """Did contacting help: the lists as of ``snapshot`` (default 30 days ago), paid within 14
    and 30 days, contacted against not contacted (not a controlled comparison)."""
    from datetime import timedelta

    day = parse_day("snapshot", snapshot) or today(clock) - timedelta(days=30)
    return outcomes_report(db, actor, day)
