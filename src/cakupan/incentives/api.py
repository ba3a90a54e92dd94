"""``/api/v1/incentives``: schemes, the caller's statements, and the statement workflow
(approve, pay, dispute, reopen) with the same rules as the CLI and the pages.

Transitions are idempotent: asking for the status a statement already has answers the statement
as it stands (200) without a second audit row or webhook event, so a client may retry freely.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from cakupan.dates import Month
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.incentives import queries
from cakupan.incentives.actions import set_statement_status
from cakupan.incentives.models import STATEMENT_STATUSES
from cakupan.web.deps import ApiActor, AppClock, DbSession

router = APIRouter(prefix="/incentives", tags=["incentives"])

StatementId = Annotated[int, Path(ge=1, le=2**62, description="The statement's id")]


class DisputeBody(BaseModel):
    """Why the statement is disputed."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000, pattern=r"^[^\x00-\x1f\x7f]*$")


@router.get("/schemes")
def list_schemes(actor: ApiActor, db: DbSession) -> list[dict[str, object]]:
    """Every scheme version (public reference data for every signed-in role)."""
    del actor
    return [record.as_dict() for record in queries.schemes(db)]


def _month(period: str) -> Month:
    try:
        return Month.parse(period)
    except ValueError as error:
        raise invalid("period", t(str(error), str(error))) from None


@router.get("/statements")
def statements(
    actor: ApiActor, db: DbSession, period: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]
) -> dict[str, Any]:
    """The stored statements of a period within the caller's scope (run the period first)."""
    month = _month(period)
    found = queries.visible_statements(db, actor, month)
    db.commit()  # the personal_data.unmask audit row, if the role sees NIKs in clear
    return {"period": str(month), "statements": found}


@router.get("/statements/{statement_id}")
def statement(actor: ApiActor, db: DbSession, statement_id: StatementId) -> dict[str, Any]:
    """One stored statement with its lines and its workflow status (404 outside the scope)."""
    found = queries.visible_statement(db, actor, statement_id)
    db.commit()  # the personal_data.unmask audit row, if the role sees NIKs in clear
    return found


def _transition(
    db: DbSession,
    actor: ApiActor,
    clock: AppClock,
    statement_id: int,
    new_status: str,
    reason: str | None = None,
) -> dict[str, Any]:
    current = queries.visible_statement(db, actor, statement_id)
    same_reason = new_status != "disputed" or current["status_reason"] == (reason or "").strip()
    if current["status"] == new_status and new_status in STATEMENT_STATUSES and same_reason:
        return current  # a retry: nothing changes
    set_statement_status(
        db,
        actor,
        clock,
        Month.parse(current["period"]),
        current["partner_code"],
        current["scheme"],
        new_status,
        reason=reason,
    )
    db.commit()
    found = queries.visible_statement(db, actor, statement_id)
    db.commit()
    return found


@router.post("/statements/{statement_id}/approve")
def approve(
    actor: ApiActor, db: DbSession, clock: AppClock, statement_id: StatementId
) -> dict[str, Any]:
    """draft or disputed -> approved (head of membership: kabid, head_office, admin). Sends
    ``incentive_statement.approved`` to the partner's webhook subscriptions."""
    return _transition(db, actor, clock, statement_id, "approved")


@router.post("/statements/{statement_id}/pay")
def pay(
    actor: ApiActor, db: DbSession, clock: AppClock, statement_id: StatementId
) -> dict[str, Any]:
    """approved -> paid (the same roles as approval)."""
    return _transition(db, actor, clock, statement_id, "paid")


@router.post("/statements/{statement_id}/dispute")
def dispute(
    actor: ApiActor,
    db: DbSession,
    clock: AppClock,
    statement_id: StatementId,
    body: DisputeBody,
) -> dict[str, Any]:
    """draft or approved -> disputed, with a reason (approvers, or the partner or agent whose
    statement it is)."""
    return _transition(db, actor, clock, statement_id, "disputed", body.reason)


@router.post("/statements/{statement_id}/reopen")
def reopen(
    actor: ApiActor, db: DbSession, clock: AppClock, statement_id: StatementId
) -> dict[str, Any]:
    """disputed -> draft (recomputed by the next run; the same roles as approval)."""
    return _transition(db, actor, clock, statement_id, "draft")
