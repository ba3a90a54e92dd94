"""``/api/v1/incentives``: schemes and the caller's statements (thin; reads only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from cakupan.dates import Month
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.incentives import queries
from cakupan.web.deps import ApiActor, DbSession

router = APIRouter(prefix="/incentives", tags=["incentives"])


@router.get("/schemes")
def list_schemes(actor: ApiActor, db: DbSession) -> list[dict[str, object]]:
    """Every scheme version (public reference data for every signed-in role)."""
    del actor
    return [record.as_dict() for record in queries.schemes(db)]


@router.get("/statements")
def statements(
    actor: ApiActor, db: DbSession, period: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]
) -> dict[str, Any]:
    """The stored statements of a period within the caller's scope (run the period first)."""
    try:
        month = Month.parse(period)
    except ValueError as error:
        raise invalid("period", t(str(error), str(error))) from None
    return {"period": str(month), "statements": queries.visible_statements(db, actor, month)}
